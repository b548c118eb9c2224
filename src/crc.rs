//! CRC-32C helpers.
//!
//! `crc32c::crc32c_combine` (0.6) costs ~170k instructions per call, and the
//! parallel walk combines once per subtree; this one costs a few thousand.
//!
//! CRC-32C is a polynomial remainder in GF(2) (reflected representation,
//! polynomial 0x82F63B78). For streams A and B,
//! `crc(A || B) = crc(A) * x^(8*len(B)) mod P  XOR  crc(B)`:
//! the pre/post inversions of the two CRCs cancel out. `x^(8*len)` is built
//! from the precomputed powers `x^(2^k) mod P` by square-and-multiply.

/// Inputs at least this long go to `crc-fast` (folding with carry-less
/// multiplies, VPCLMULQDQ/AVX-512 where the CPU has it); shorter ones to
/// `crc32c` (the SSE4.2 instruction), which has less set-up per call.
const FAST_MIN: usize = 256;

/// CRC-32C of `crc`'s stream followed by `data` (seed and result as
/// `crc32c::crc32c_append`).
#[inline]
pub fn append(crc: u32, data: &[u8]) -> u32 {
    if data.len() < FAST_MIN {
        return crc32c::crc32c_append(crc, data);
    }
    // crc-fast's state is the register before the final inversion.
    let mut d = crc_fast::Digest::new_with_init_state(crc_fast::CrcAlgorithm::Crc32Iscsi, u64::from(!crc));
    d.update(data);
    d.finalize() as u32
}

/// CRC-32C (seed 0) of `k1 v1 k2 v2 ...` and its length in bytes, computed
/// in parallel over runs of pairs and joined with [`combine`].
pub fn pairs(kvs: &[(&[u8], &[u8])]) -> (u32, u64) {
    use rayon::prelude::*;
    kvs.par_chunks(2048)
        .map(|run| {
            run.iter().fold((0u32, 0u64), |(crc, len), (k, v)| {
                (append(append(crc, k), v), len + k.len() as u64 + v.len() as u64)
            })
        })
        .reduce(|| (0, 0), |(a, alen), (b, blen)| (combine(a, b, blen), alen + blen))
}

/// The CRC-32C polynomial, bit-reflected.
const POLY: u32 = 0x82F6_3B78;

/// `a * b mod P` (reflected: bit 31 is the x^0 coefficient).
fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut p = 0u32;
    let mut m = 1u32 << 31;
    while m != 0 {
        if a & m != 0 {
            p ^= b;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        m >>= 1;
    }
    p
}

/// `x^(2^k) mod P` for k = 0..64.
// Evaluated at compile time (it initialises a static): an index out of
// bounds would fail the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const fn powers() -> [u32; 64] {
    let mut t = [0u32; 64];
    t[0] = 1 << 30; // x^1
    let mut k = 1;
    while k < 64 {
        // square t[k-1] (const-evaluable copy of mul_mod)
        let a = t[k - 1];
        let mut b = a;
        let mut p = 0u32;
        let mut m = 1u32 << 31;
        while m != 0 {
            if a & m != 0 {
                p ^= b;
            }
            b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
            m >>= 1;
        }
        t[k] = p;
        k += 1;
    }
    t
}

static POWERS: [u32; 64] = powers();

/// CRC-32C of `A || B` from `crc(A)`, `crc(B)` and `len(B)`.
pub fn combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    if len_b == 0 {
        return crc_a;
    }
    // x^(8*len_b) = product of x^(2^k) over the set bits k of 8*len_b.
    let mut xp = 1u32 << 31; // x^0
    let mut n = len_b;
    let mut k = 3; // the factor 8
    while n != 0 {
        if n & 1 != 0 {
            if let Some(&pk) = POWERS.get(k) {
                xp = mul_mod(pk, xp);
            }
        }
        n >>= 1;
        k += 1;
    }
    mul_mod(xp, crc_a) ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_matches_crc32c_at_every_length_and_seed() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
        for len in (0..600).chain([1023, 1024, 1025, 4096, 8192 + 17, 20_000]) {
            let d = data.get(..len).unwrap_or(&data);
            for seed in [0u32, 1, 0xFFFF_FFFF, 0x1234_5678] {
                assert_eq!(append(seed, d), crc32c::crc32c_append(seed, d), "len {len} seed {seed:#x}");
            }
        }
        // misaligned starts
        for start in 1..17 {
            let d = data.get(start..start + 5000).unwrap_or(&data);
            assert_eq!(append(7, d), crc32c::crc32c_append(7, d), "start {start}");
        }
    }

    #[test]
    fn pairs_equals_the_sequential_stream() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 9) as u8).collect();
        let mut kvs: Vec<(&[u8], &[u8])> = Vec::new();
        let mut at = 0usize;
        for i in 0..9000usize {
            let (k, v) = (1 + i % 17, (i * 31) % 700);
            if at + k + v > data.len() {
                at = 0;
            }
            kvs.push((&data[at..at + k], &data[at + k..at + k + v]));
            at += k + v;
        }
        let mut crc = 0u32;
        let mut len = 0u64;
        for (k, v) in &kvs {
            crc = crc32c::crc32c_append(crc32c::crc32c_append(crc, k), v);
            len += (k.len() + v.len()) as u64;
        }
        assert_eq!(pairs(&kvs), (crc, len));
        assert_eq!(pairs(&[]), (0, 0));
    }

    #[test]
    fn combine_matches_whole_stream_crc() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for cut in [0usize, 1, 7, 8, 100, 2500, 4999, 5000] {
            let (a, b) = data.split_at(cut);
            let whole = crc32c::crc32c(&data);
            assert_eq!(combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len() as u64), whole, "cut {cut}");
            assert_eq!(
                combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len() as u64),
                crc32c::crc32c_combine(crc32c::crc32c(a), crc32c::crc32c(b), b.len())
            );
        }
        // large lengths (exercise high powers) agree with the crate
        for len in [1u64 << 20, (1 << 33) + 12345, u64::from(u32::MAX) * 7] {
            assert_eq!(
                combine(0x1234_5678, 0x9abc_def0, len),
                crc32c::crc32c_combine(0x1234_5678, 0x9abc_def0, len as usize)
            );
        }
    }
}
