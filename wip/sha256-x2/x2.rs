#![allow(clippy::all, unsafe_op_in_unsafe_fn)]
use core::arch::x86_64::*;

pub const K32: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

#[inline(always)]
unsafe fn schedule(v0: __m128i, v1: __m128i, v2: __m128i, v3: __m128i) -> __m128i {
    let t1 = _mm_sha256msg1_epu32(v0, v1);
    let t2 = _mm_alignr_epi8(v3, v2, 4);
    let t3 = _mm_add_epi32(t1, t2);
    _mm_sha256msg2_epu32(t3, v3)
}

macro_rules! r4 {
    ($abef:ident, $cdgh:ident, $abef2:ident, $cdgh2:ident, $w:expr, $w2:expr, $i:expr) => {{
        let kv = _mm_loadu_si128(K32.as_ptr().add($i * 4) as *const __m128i);
        let t1 = _mm_add_epi32($w, kv);
        let u1 = _mm_add_epi32($w2, kv);
        $cdgh = _mm_sha256rnds2_epu32($cdgh, $abef, t1);
        $cdgh2 = _mm_sha256rnds2_epu32($cdgh2, $abef2, u1);
        let t2 = _mm_shuffle_epi32(t1, 0x0E);
        let u2 = _mm_shuffle_epi32(u1, 0x0E);
        $abef = _mm_sha256rnds2_epu32($abef, $cdgh, t2);
        $abef2 = _mm_sha256rnds2_epu32($abef2, $cdgh2, u2);
    }};
}

#[inline(always)]
unsafe fn load_state(state: &[u32; 8]) -> (__m128i, __m128i) {
    let p = state.as_ptr() as *const __m128i;
    let dcba = _mm_loadu_si128(p);
    let efgh = _mm_loadu_si128(p.add(1));
    let cdab = _mm_shuffle_epi32(dcba, 0xB1);
    let efgh = _mm_shuffle_epi32(efgh, 0x1B);
    (_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0))
}

#[inline(always)]
unsafe fn store_state(state: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
    let feba = _mm_shuffle_epi32(abef, 0x1B);
    let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    let hgef = _mm_alignr_epi8(dchg, feba, 8);
    let p = state.as_mut_ptr() as *mut __m128i;
    _mm_storeu_si128(p, dcba);
    _mm_storeu_si128(p.add(1), hgef);
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub unsafe fn compress_x2(sa: &mut [u32; 8], sb: &mut [u32; 8], a: &[[u8; 64]], b: &[[u8; 64]]) {
    let mask = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0Bu64 as i64, 0x0405_0607_0001_0203u64 as i64);
    let (mut abef, mut cdgh) = load_state(sa);
    let (mut abef2, mut cdgh2) = load_state(sb);
    for (ba, bb) in a.iter().zip(b.iter()) {
        let (sa0, sc0, sa1, sc1) = (abef, cdgh, abef2, cdgh2);
        let pa = ba.as_ptr() as *const __m128i;
        let pb = bb.as_ptr() as *const __m128i;
        let mut w0 = _mm_shuffle_epi8(_mm_loadu_si128(pa), mask);
        let mut w1 = _mm_shuffle_epi8(_mm_loadu_si128(pa.add(1)), mask);
        let mut w2 = _mm_shuffle_epi8(_mm_loadu_si128(pa.add(2)), mask);
        let mut w3 = _mm_shuffle_epi8(_mm_loadu_si128(pa.add(3)), mask);
        let mut x0 = _mm_shuffle_epi8(_mm_loadu_si128(pb), mask);
        let mut x1 = _mm_shuffle_epi8(_mm_loadu_si128(pb.add(1)), mask);
        let mut x2 = _mm_shuffle_epi8(_mm_loadu_si128(pb.add(2)), mask);
        let mut x3 = _mm_shuffle_epi8(_mm_loadu_si128(pb.add(3)), mask);
        let mut w4;
        let mut x4;
        r4!(abef, cdgh, abef2, cdgh2, w0, x0, 0);
        r4!(abef, cdgh, abef2, cdgh2, w1, x1, 1);
        r4!(abef, cdgh, abef2, cdgh2, w2, x2, 2);
        r4!(abef, cdgh, abef2, cdgh2, w3, x3, 3);
        macro_rules! s4 {
            ($a0:ident,$a1:ident,$a2:ident,$a3:ident,$a4:ident,$b0:ident,$b1:ident,$b2:ident,$b3:ident,$b4:ident,$i:expr) => {{
                $a4 = schedule($a0, $a1, $a2, $a3);
                $b4 = schedule($b0, $b1, $b2, $b3);
                r4!(abef, cdgh, abef2, cdgh2, $a4, $b4, $i);
            }};
        }
        s4!(w0, w1, w2, w3, w4, x0, x1, x2, x3, x4, 4);
        s4!(w1, w2, w3, w4, w0, x1, x2, x3, x4, x0, 5);
        s4!(w2, w3, w4, w0, w1, x2, x3, x4, x0, x1, 6);
        s4!(w3, w4, w0, w1, w2, x3, x4, x0, x1, x2, 7);
        s4!(w4, w0, w1, w2, w3, x4, x0, x1, x2, x3, 8);
        s4!(w0, w1, w2, w3, w4, x0, x1, x2, x3, x4, 9);
        s4!(w1, w2, w3, w4, w0, x1, x2, x3, x4, x0, 10);
        s4!(w2, w3, w4, w0, w1, x2, x3, x4, x0, x1, 11);
        s4!(w3, w4, w0, w1, w2, x3, x4, x0, x1, x2, 12);
        s4!(w4, w0, w1, w2, w3, x4, x0, x1, x2, x3, 13);
        s4!(w0, w1, w2, w3, w4, x0, x1, x2, x3, x4, 14);
        s4!(w1, w2, w3, w4, w0, x1, x2, x3, x4, x0, 15);
        abef = _mm_add_epi32(abef, sa0);
        cdgh = _mm_add_epi32(cdgh, sc0);
        abef2 = _mm_add_epi32(abef2, sa1);
        cdgh2 = _mm_add_epi32(cdgh2, sc1);
    }
    store_state(sa, abef, cdgh);
    store_state(sb, abef2, cdgh2);
}
