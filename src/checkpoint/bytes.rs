//! The little-endian building blocks of the checkpoint layouts: length-prefixed sections
//! written onto a `Vec<u8>` and read off a slice, and the CRC-32 that closes a file.

use crate::error::Error;

pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Appends little-endian values and sections.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    pub fn floats(&mut self, values: &[f32]) {
        self.0.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }

    /// A u64 length, then the bytes.
    pub fn section(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }
}

/// Reads values off the front of a byte slice; running short is the error `short` makes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    short: fn() -> Error,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], short: fn() -> Error) -> Self {
        Reader { bytes, short }
    }

    pub fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        if len > self.bytes.len() {
            return Err((self.short)());
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self
            .take(N)?
            .try_into()
            .expect("take returns exactly N bytes"))
    }

    pub fn u32(&mut self) -> Result<u32, Error> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u64(&mut self) -> Result<u64, Error> {
        self.array().map(u64::from_le_bytes)
    }

    /// `len` f32 values. The length is checked against what is left before anything is
    /// allocated: a length field set huge is an error, not an allocation.
    pub fn floats(&mut self, len: usize) -> Result<Vec<f32>, Error> {
        let bytes = self.take(len.checked_mul(4).ok_or_else(self.short)?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes")))
            .collect())
    }

    /// A section `Writer::section` wrote.
    pub fn section(&mut self) -> Result<&'a [u8], Error> {
        let len = usize::try_from(self.u64()?).map_err(|_| (self.short)())?;
        self.take(len)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
