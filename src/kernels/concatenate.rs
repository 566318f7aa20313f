//! Many 1-D tensors into one, six per launch: burn's `cat` is a launch per part, and the global
//! gradient norm and the per-chunk copy of the weights each join every parameter (~30 in
//! baby-GPT). A launch binds the output and six parts, the most a WebGPU kernel may hold.

use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch};
use burn::tensor::Tensor;
use burn_backend::cubecl::dtype_to_storage_type;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;

use super::Launch;

/// Parts a launch copies.
const PER_LAUNCH: usize = 6;

/// `parts` end to end, `[Σ lengths]`. The tensors must be on a cubecl device and outside
/// autodiff.
pub fn concatenate(parts: Vec<Tensor<1>>) -> Tensor<1> {
    let total: usize = parts.iter().map(|p| p.dims()[0]).sum();
    let mut flat = Tensor::<1>::empty([total], &parts[0].device());
    let mut at = 0;
    for group in parts.chunks(PER_LAUNCH) {
        let lengths: [u32; PER_LAUNCH] =
            std::array::from_fn(|i| group.get(i).map_or(0, |p| p.dims()[0] as u32));
        // Slots past the group's end repeat its first part, unread (0 long).
        let part = |i: usize| group.get(i).unwrap_or(&group[0]).clone().into_dispatch();
        flat = Tensor::from_dispatch(Dispatch::append_parts(
            flat.into_dispatch(),
            part(0),
            part(1),
            part(2),
            part(3),
            part(4),
            part(5),
            lengths,
            at,
        ));
        at += lengths.iter().sum::<u32>();
    }
    flat
}

#[backend_extension(Cube, Fusion)]
pub trait ConcatenateKernels: Backend {
    /// `flat` with `parts` (`lengths` long) written from position `at` on; `flat` itself where
    /// nothing else holds it.
    #[fusion(meta = |flat, _, _, _, _, _, _, _, _| flat.clone())]
    #[allow(clippy::too_many_arguments)]
    fn append_parts(
        flat: FloatTensor<Self>,
        p0: FloatTensor<Self>,
        p1: FloatTensor<Self>,
        p2: FloatTensor<Self>,
        p3: FloatTensor<Self>,
        p4: FloatTensor<Self>,
        p5: FloatTensor<Self>,
        lengths: [u32; PER_LAUNCH],
        at: u32,
    ) -> FloatTensor<Self>;
}

impl ConcatenateKernels for CubeBackend {
    fn append_parts(
        flat: CubeTensor,
        p0: CubeTensor,
        p1: CubeTensor,
        p2: CubeTensor,
        p3: CubeTensor,
        p4: CubeTensor,
        p5: CubeTensor,
        lengths: [u32; PER_LAUNCH],
        at: u32,
    ) -> CubeTensor {
        let flat = if flat.can_mut() { flat } else { flat.copy() };
        let [p0, p1, p2, p3, p4, p5] = [p0, p1, p2, p3, p4, p5].map(into_contiguous);
        let total = lengths.iter().sum::<u32>() as usize;
        let launch = Launch::new(&flat, total);
        let [l0, l1, l2, l3, l4, _] = lengths;
        kernels::append_kernel::launch(
            &flat.client,
            launch.count,
            launch.dim,
            flat.clone().into_tensor_arg(),
            p0.into_tensor_arg(),
            p1.into_tensor_arg(),
            p2.into_tensor_arg(),
            p3.into_tensor_arg(),
            p4.into_tensor_arg(),
            p5.into_tensor_arg(),
            at,
            total as u32,
            l0,
            l1,
            l2,
            l3,
            l4,
            dtype_to_storage_type(flat.dtype),
        );
        flat
    }
}

/// The kernels, apart: cubecl's `Tensor` is not burn's.
mod kernels {
    use burn_cubecl::cubecl::{self, prelude::*};

    /// Element `at + i` of `flat` from the part that holds position i of the parts end to end,
    /// the first five `l0`..`l4` long (the last takes the rest of `total`).
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn append_kernel<F: Float>(
        flat: &mut Tensor<F>,
        p0: &Tensor<F>,
        p1: &Tensor<F>,
        p2: &Tensor<F>,
        p3: &Tensor<F>,
        p4: &Tensor<F>,
        p5: &Tensor<F>,
        at: u32,
        total: u32,
        l0: u32,
        l1: u32,
        l2: u32,
        l3: u32,
        l4: u32,
        #[define(F)] _dtype: ElemType,
    ) {
        let i = ABSOLUTE_POS;
        if i >= total as usize {
            terminate!();
        }
        let (e0, e1, e2) = (l0 as usize, l1 as usize, l2 as usize);
        let (e3, e4) = (l3 as usize, l4 as usize);
        let out = at as usize + i;
        let mut k = i;
        if k < e0 {
            flat[out] = p0[k];
        } else {
            k -= e0;
            if k < e1 {
                flat[out] = p1[k];
            } else {
                k -= e1;
                if k < e2 {
                    flat[out] = p2[k];
                } else {
                    k -= e2;
                    if k < e3 {
                        flat[out] = p3[k];
                    } else {
                        k -= e3;
                        if k < e4 {
                            flat[out] = p4[k];
                        } else {
                            flat[out] = p5[k - e4];
                        }
                    }
                }
            }
        }
    }
}
