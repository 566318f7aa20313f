//! Property tests of everything that reads untrusted input: model files (they come from
//! strangers' downloads and `model-src` URLs), the tokenizer (any text), and the options a page
//! sends. Never a panic, always an error with a kind, and no allocation a file's own lengths
//! could blow up before they are checked.
//!
//! CI runs a bounded number of cases; `scripts/fuzz.sh` runs many more
//! (`KINDLING_FUZZ_CASES`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

use kindling::device::cpu;
use kindling::{checkpoint, Config, ErrorKind, SamplingOptions, Tokenizer, Trainer};
use kindling::{validate, Problem};

/// Counts the bytes this process has allocated, to bound what a load may take.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the most memory it held at once beyond what was held before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = f();
    (result, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// A load of a mutated ~10 KB file may hold at most this much at once.
const LOAD_MEMORY_BOUND: usize = 32 << 20;

/// `default` cases, or `KINDLING_FUZZ_CASES / share` (properties that load a model per case
/// take a share of a long run's cases).
fn cases(default: u32, share: u32) -> ProptestConfig {
    let cases = std::env::var("KINDLING_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .map_or(default, |n| (n / share).max(1));
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A small trained model's file (~10 KB): every section present, the optimizer with moments.
fn small_checkpoint() -> Vec<u8> {
    let config = Config {
        n_layer: 1,
        n_head: 1,
        n_embd: 8,
        block_size: 8,
        batch_size: 2,
        eval_interval: 0,
        ..Config::tiny()
    };
    let mut trainer = Trainer::new("abcab cabba ".repeat(10), config, cpu()).unwrap();
    pollster::block_on(trainer.train_steps(1)).unwrap();
    pollster::block_on(checkpoint::save(&trainer)).unwrap()
}

/// Makes the preamble's total length and the closing CRC-32 agree with `bytes` again, so a
/// mutation reaches the parsing behind the checksum.
fn reseal(bytes: &mut Vec<u8>) {
    if bytes.len() < 24 {
        return;
    }
    bytes.truncate(bytes.len() - 4);
    let total = (bytes.len() + 4) as u64;
    bytes[12..20].copy_from_slice(&total.to_le_bytes());
    let crc = crc32fast::hash(bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
}

/// Offset and width of length field `field` (total, header, weights section, optimizer
/// section), if earlier mutations left it inside the file.
fn length_field(bytes: &[u8], field: usize) -> Option<(usize, usize)> {
    let read = |at: usize, width: usize| -> Option<usize> {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(bytes.get(at..at.checked_add(width)?)?);
        usize::try_from(u64::from_le_bytes(le)).ok()
    };
    let weights_at = 24usize.checked_add(read(20, 4)?)?;
    let (at, width) = match field {
        0 => (12, 8),
        1 => (20, 4),
        2 => (weights_at, 8),
        _ => (
            weights_at
                .checked_add(8)?
                .checked_add(read(weights_at, 8)?)?,
            8,
        ),
    };
    (at.checked_add(width)? <= bytes.len()).then_some((at, width))
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: Index, bit: u8 },
    Truncate(Index),
    Length { field: usize, value: u64 },
    Insert { at: Index, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<Index>().prop_map(Mutation::Truncate),
        (
            0usize..4,
            prop_oneof![
                Just(u64::MAX),
                Just(u32::MAX as u64),
                Just(1 << 40),
                any::<u64>()
            ]
        )
            .prop_map(|(field, value)| Mutation::Length { field, value }),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::Flip { at, bit } => {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        Mutation::Length { field, value } => {
            if let Some((at, width)) = length_field(bytes, *field) {
                bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
            }
        }
        Mutation::Insert {
            at,
            bytes: inserted,
        } => {
            let i = at.index(bytes.len());
            bytes.splice(i..i, inserted.iter().copied());
        }
    }
}

/// Loads `bytes`: fine, or refused as a `Checkpoint` error, within the memory bound.
fn check_load(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (result, peak) = peak_during(|| checkpoint::load(bytes, cpu()));
    if let Err(error) = result {
        prop_assert_eq!(error.kind, ErrorKind::Checkpoint, "{}", error);
        prop_assert!(!error.message.is_empty());
    }
    prop_assert!(peak < LOAD_MEMORY_BOUND, "a load held {} bytes", peak);
    Ok(())
}

proptest! {
    #![proptest_config(cases(10_000, 1))]

    #[test]
    fn random_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..512), magic in any::<bool>()) {
        let mut bytes = bytes;
        if magic {
            let mut file = b"KINDLING\x02\0\0\0".to_vec();
            file.append(&mut bytes);
            bytes = file;
        }
        check_load(&bytes)?;
        prop_assert!(checkpoint::load(&bytes, cpu()).is_err());
    }

    #[test]
    fn any_text_round_trips_through_its_tokenizer(text in any::<String>(), other in any::<String>()) {
        let tokenizer = Tokenizer::from_text(&text);
        let encoded = tokenizer.encode(&text);
        prop_assert!(encoded.unknown.is_empty());
        prop_assert_eq!(tokenizer.decode(&encoded.ids), text.clone());
        let foreign = tokenizer.encode(&other);
        let kept: String = other.chars().filter(|c| text.contains(*c)).collect();
        prop_assert_eq!(tokenizer.decode(&foreign.ids), kept);
        prop_assert_eq!(foreign.warning().is_some(), !foreign.unknown.is_empty());
        let json = serde_json::to_string(&tokenizer).unwrap();
        prop_assert_eq!(serde_json::from_str::<Tokenizer>(&json).unwrap(), tokenizer);
    }

    #[test]
    fn any_options_give_a_config_or_errors_with_fields(options in options(), preset in prop::option::of("[a-z-]{0,10}|tiny|baby-gpt")) {
        match validate::config(preset.as_deref(), &options) {
            Ok(config) => {
                for error in config.validate(1000, 20) {
                    prop_assert!(!error.field.is_empty() && !error.message.is_empty());
                }
                let report = validate::report(&"ab".repeat(500), Ok(config));
                prop_assert_eq!(report.ok, report.errors.is_empty());
            }
            Err(error) => {
                prop_assert_eq!(error.kind, ErrorKind::Config);
                prop_assert!(!error.fields.is_empty());
                for error in error.fields {
                    prop_assert!(!error.field.is_empty() && !error.message.is_empty());
                }
            }
        }
        if let Err(error) = SamplingOptions::from_overrides(&options) {
            prop_assert!(error.fields.iter().all(|e| !e.message.is_empty()));
        }
    }
}

proptest! {
    #![proptest_config(cases(2_000, 5))]

    #[test]
    fn mutated_model_files_are_refused_or_load(mutations in prop::collection::vec(mutation(), 1..4), sealed in any::<bool>()) {
        let mut bytes = small_checkpoint();
        for mutation in &mutations {
            if bytes.len() > 64 {
                apply(&mut bytes, mutation);
            }
        }
        if sealed {
            reseal(&mut bytes);
        }
        check_load(&bytes)?;
    }
}

/// Values of every JSON kind the page's conversion can produce, and field names that exist
/// and do not.
fn options() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        prop::sample::select(vec![
            "model",
            "nLayer",
            "nHead",
            "nEmbd",
            "hiddenSize",
            "blockSize",
            "dropout",
            "batchSize",
            "learningRate",
            "minLearningRate",
            "warmupSteps",
            "maxSteps",
            "weightDecay",
            "beta1",
            "beta2",
            "gradClip",
            "evalInterval",
            "evalBatches",
            "valFraction",
            "tieEmbeddings",
            "seed",
            "tokenizer",
            "merges",
            "loraRank",
            "maxTokens",
            "temperature",
            "topK",
            "topP",
            "repetitionPenalty",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z]{1,8}",
    ];
    let values = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..10_000).prop_map(Value::from),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x)
            .map_or_else(|| Value::String(x.to_string()), Value::Number)),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![Just("gpt".to_string()), Just("lstm".to_string()), ".{0,6}"]
            .prop_map(Value::String),
    ];
    prop::collection::btree_map(names, values, 0..8).prop_map(|m| m.into_iter().collect())
}

#[test]
fn an_absurd_config_behind_a_valid_checksum_is_refused_before_allocating() {
    let bytes = small_checkpoint();
    let header_len = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[24..24 + header_len]).unwrap();
    for (field, value) in [
        ("nEmbd", 1u64 << 40),
        ("nLayer", 1 << 30),
        ("blockSize", 1 << 20),
    ] {
        let mut header = header.clone();
        header["config"][field] = value.into();
        let header = serde_json::to_vec(&header).unwrap();
        let mut file = bytes[..20].to_vec();
        file.extend_from_slice(&(header.len() as u32).to_le_bytes());
        file.extend_from_slice(&header);
        file.extend_from_slice(&bytes[24 + header_len..]);
        reseal(&mut file);
        let (result, peak) = peak_during(|| checkpoint::load(&file, cpu()));
        let error = result.err().expect("refused");
        assert_eq!(error.kind, ErrorKind::Checkpoint);
        assert!(error.message.contains("invalid config"), "{error}");
        assert!(peak < 1 << 20, "{field}: held {peak} bytes before refusing");
    }
}

#[test]
fn the_report_of_an_out_of_range_config_does_not_overflow() {
    let huge = Config {
        n_embd: usize::MAX / 2,
        n_layer: usize::MAX / 3,
        ..Config::tiny()
    };
    let report = validate::report("abc".repeat(100).as_str(), Ok(huge));
    assert!(!report.ok);
    assert!(report.errors.iter().any(|e| e.kind == Problem::OutOfRange));
}
