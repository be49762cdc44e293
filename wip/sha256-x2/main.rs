mod x2;
use std::time::Instant;
const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
fn blocks(b: &[u8]) -> &[[u8; 64]] {
    let n = b.len() / 64;
    unsafe { std::slice::from_raw_parts(b.as_ptr() as *const [u8; 64], n) }
}
fn main() {
    let n = 128usize << 20;
    let a: Vec<u8> = (0..n).map(|i| (i * 31) as u8).collect();
    let b: Vec<u8> = (0..n).map(|i| (i * 17 + 3) as u8).collect();
    for round in 0..3 {
        let t = Instant::now();
        let mut s1 = IV; let mut s2 = IV;
        for c in a.chunks(1 << 20) { sha2::compress256(&mut s1, unsafe { std::mem::transmute::<&[[u8;64]], &[sha2::digest::generic_array::GenericArray<u8, sha2::digest::typenum::U64>]>(blocks(c)) }); }
        for c in b.chunks(1 << 20) { sha2::compress256(&mut s2, unsafe { std::mem::transmute::<&[[u8;64]], &[sha2::digest::generic_array::GenericArray<u8, sha2::digest::typenum::U64>]>(blocks(c)) }); }
        let d1 = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut u1 = IV; let mut u2 = IV;
        for (ca, cb) in a.chunks(1 << 20).zip(b.chunks(1 << 20)) { unsafe { x2::compress_x2(&mut u1, &mut u2, blocks(ca), blocks(cb)) } }
        let d2 = t.elapsed().as_secs_f64();
        assert_eq!(s1, u1); assert_eq!(s2, u2);
        let gb = 2.0 * n as f64 / 1e9;
        println!("round {round}: single {:.2} GB/s, x2 interleaved {:.2} GB/s ({:.2}x)", gb / d1, gb / d2, d1 / d2);
    }
}
