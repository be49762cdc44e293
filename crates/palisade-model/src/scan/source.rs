//! Byte sources for the format parsers: a bounded window of a seekable file
//! (payloads are skipped with a seek, never read) or a forward-only stream
//! (a deflated zip entry, a gzip file: payloads are read and dropped).
//!
//! Every source knows its position and, where it can, how many bytes remain,
//! so parsers check every length against the bytes actually left before
//! allocating or skipping.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// What the parsers read from.
pub(crate) trait Source {
    /// Fills `buf` completely or fails with `UnexpectedEof`.
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()>;
    /// Reads one byte; `None` at the end.
    fn read_byte(&mut self) -> io::Result<Option<u8>>;
    /// Skips `n` bytes; fails with `UnexpectedEof` when fewer remain.
    fn skip(&mut self, n: u64) -> io::Result<()>;
    /// Position from the start of this source.
    fn pos(&self) -> u64;
    /// Bytes left, when known.
    fn remaining(&self) -> Option<u64>;
    /// Reads up to and including `\n`, keeping at most `cap` bytes (the line
    /// without its `\n`). Returns the kept bytes and the full line length, or
    /// `None` when the source ends before a `\n`.
    fn read_line(&mut self, cap: usize) -> io::Result<Option<(Vec<u8>, u64)>> {
        let mut kept = Vec::new();
        let mut len = 0u64;
        loop {
            match self.read_byte()? {
                None => return Ok(None),
                Some(b'\n') => return Ok(Some((kept, len))),
                Some(b) => {
                    if kept.len() < cap {
                        kept.push(b);
                    }
                    len += 1;
                }
            }
        }
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of data")
}

/// A window `[start, end)` of a seekable reader, read through a buffer.
#[derive(Debug)]
pub(crate) struct Window<R: Read + Seek> {
    inner: BufReader<R>,
    start: u64,
    end: u64,
    /// Absolute position of the next byte.
    at: u64,
}

impl<R: Read + Seek> Window<R> {
    /// A window over `[start, end)` of `inner`.
    pub(crate) fn new(inner: R, start: u64, end: u64) -> io::Result<Self> {
        let mut inner = BufReader::with_capacity(64 * 1024, inner);
        inner.seek(SeekFrom::Start(start))?;
        Ok(Self {
            inner,
            start,
            end,
            at: start,
        })
    }

    /// Moves to `pos` (relative to the window's start).
    pub(crate) fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        let abs = self.start.checked_add(pos).ok_or_else(eof)?;
        if abs > self.end {
            return Err(eof());
        }
        // seek_relative keeps the buffer when the target is inside it.
        let delta = i64::try_from(abs).unwrap_or(i64::MAX) - i64::try_from(self.at).unwrap_or(0);
        self.inner.seek_relative(delta)?;
        self.at = abs;
        Ok(())
    }
}

impl<R: Read + Seek> Source for Window<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        if (buf.len() as u64) > self.end - self.at {
            // Consume what is there, as a real reader would, then fail.
            let left = self.end - self.at;
            self.skip(left)?;
            return Err(eof());
        }
        self.inner.read_exact(buf)?;
        self.at += buf.len() as u64;
        Ok(())
    }

    fn read_byte(&mut self) -> io::Result<Option<u8>> {
        if self.at >= self.end {
            return Ok(None);
        }
        let buf = self.inner.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.inner.consume(1);
        self.at += 1;
        Ok(Some(b))
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let left = self.end - self.at;
        if n > left {
            self.seek_to(self.end - self.start)?;
            return Err(eof());
        }
        self.seek_to(self.at - self.start + n)
    }

    fn pos(&self) -> u64 {
        self.at - self.start
    }

    fn remaining(&self) -> Option<u64> {
        Some(self.end - self.at)
    }

    fn read_line(&mut self, cap: usize) -> io::Result<Option<(Vec<u8>, u64)>> {
        // Scan the buffer in chunks rather than byte by byte.
        let mut kept = Vec::new();
        let mut len = 0u64;
        loop {
            if self.at >= self.end {
                return Ok(None);
            }
            let limit = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let buf = &buf[..buf.len().min(limit)];
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], true),
                None => (buf, false),
            };
            let room = cap.saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            len += chunk.len() as u64;
            let used = chunk.len() + usize::from(found);
            self.inner.consume(used);
            self.at += used as u64;
            if found {
                return Ok(Some((kept, len)));
            }
        }
    }
}

impl<R: Read + Seek> Read for Window<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.remaining().unwrap_or(0);
        let n = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(buf.len())
            .min(64 * 1024);
        if n == 0 {
            return Ok(0);
        }
        Source::read_exact(self, &mut buf[..n])?;
        Ok(n)
    }
}

/// A forward-only stream with an optional known length.
#[derive(Debug)]
pub(crate) struct Stream<R: Read> {
    inner: BufReader<R>,
    at: u64,
    len: Option<u64>,
}

impl<R: Read> Stream<R> {
    /// A stream over `inner`, whose decoded length is `len` when known.
    pub(crate) fn new(inner: R, len: Option<u64>) -> Self {
        Self {
            inner: BufReader::with_capacity(64 * 1024, inner),
            at: 0,
            len,
        }
    }

    /// The underlying reader. Bytes it gave that are still buffered here
    /// are discarded: the reader has already produced them.
    pub(crate) fn into_inner(self) -> R {
        self.inner.into_inner()
    }
}

impl<R: Read> Source for Stream<R> {
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf)?;
        self.at += buf.len() as u64;
        Ok(())
    }

    fn read_byte(&mut self) -> io::Result<Option<u8>> {
        let buf = self.inner.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.inner.consume(1);
        self.at += 1;
        Ok(Some(b))
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.at += copied;
        if copied < n {
            return Err(eof());
        }
        Ok(())
    }

    fn pos(&self) -> u64 {
        self.at
    }

    fn remaining(&self) -> Option<u64> {
        self.len.map(|l| l.saturating_sub(self.at))
    }
}

/// An in-memory source (tests).
#[cfg(test)]
pub(crate) type Mem<'a> = Window<io::Cursor<&'a [u8]>>;

/// A source over a byte slice.
#[cfg(test)]
pub(crate) fn mem(data: &[u8]) -> Mem<'_> {
    let len = data.len() as u64;
    // A cursor over a slice never fails to seek to 0.
    Window::new(io::Cursor::new(data), 0, len).unwrap_or_else(|_| unreachable!())
}

/// Reading at any position without moving a shared cursor, so several
/// windows over one file (a zip entry inside a zip) never disturb each other.
pub(crate) trait RandomAccess {
    /// Reads into `buf` at `pos`; returns how much was read (0 at the end).
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize>;
    /// Total length.
    fn size(&self) -> u64;
}

impl RandomAccess for std::fs::File {
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(self, buf, pos)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(self, buf, pos)
        }
    }
    fn size(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }
}

impl RandomAccess for [u8] {
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        let Ok(pos) = usize::try_from(pos) else {
            return Ok(0);
        };
        if pos >= self.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.len() - pos);
        buf[..n].copy_from_slice(&self[pos..pos + n]);
        Ok(n)
    }
    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// A `Read + Seek` cursor over a [`RandomAccess`].
#[derive(Debug)]
pub(crate) struct At<'a, A: RandomAccess + ?Sized> {
    inner: &'a A,
    pos: u64,
}

impl<'a, A: RandomAccess + ?Sized> At<'a, A> {
    pub(crate) fn new(inner: &'a A) -> Self {
        Self { inner, pos: 0 }
    }
}

impl<A: RandomAccess + ?Sized> Read for At<'_, A> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<A: RandomAccess + ?Sized> Seek for At<'_, A> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.inner.size().checked_add_signed(d),
        };
        self.pos =
            new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.pos)
    }
}

/// A window `[start, start+len)` over a random-access input.
pub(crate) fn window<A: RandomAccess + ?Sized>(
    a: &A,
    start: u64,
    len: u64,
) -> io::Result<Window<At<'_, A>>> {
    let end = start.saturating_add(len).min(a.size());
    Window::new(At::new(a), start.min(end), end)
}

/// Reads exactly `buf.len()` bytes at `pos`.
pub(crate) fn read_exact_at<A: RandomAccess + ?Sized>(
    a: &A,
    buf: &mut [u8],
    pos: u64,
) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = a.read_at(&mut buf[done..], pos + done as u64)?;
        if n == 0 {
            return Err(eof());
        }
        done += n;
    }
    Ok(())
}

/// A source limited to the next `len` bytes of another; the rest of the
/// limit is skipped by [`Limited::finish`].
#[derive(Debug)]
pub(crate) struct Limited<'a, S: Source + ?Sized> {
    inner: &'a mut S,
    start: u64,
    len: u64,
}

impl<'a, S: Source + ?Sized> Limited<'a, S> {
    pub(crate) fn new(inner: &'a mut S, len: u64) -> Self {
        let start = inner.pos();
        let len = inner.remaining().map_or(len, |r| len.min(r));
        Self { inner, start, len }
    }

    /// Skips whatever of the window was not read.
    pub(crate) fn finish(self) -> io::Result<()> {
        let used = self.inner.pos() - self.start;
        self.inner.skip(self.len.saturating_sub(used))
    }

    fn left(&self) -> u64 {
        self.len.saturating_sub(self.inner.pos() - self.start)
    }
}

impl<S: Source + ?Sized> Source for Limited<'_, S> {
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        if buf.len() as u64 > self.left() {
            let left = self.left();
            self.inner.skip(left)?;
            return Err(eof());
        }
        self.inner.read_exact(buf)
    }
    fn read_byte(&mut self) -> io::Result<Option<u8>> {
        if self.left() == 0 {
            return Ok(None);
        }
        self.inner.read_byte()
    }
    fn skip(&mut self, n: u64) -> io::Result<()> {
        if n > self.left() {
            let left = self.left();
            self.inner.skip(left)?;
            return Err(eof());
        }
        self.inner.skip(n)
    }
    fn pos(&self) -> u64 {
        self.inner.pos() - self.start
    }
    fn remaining(&self) -> Option<u64> {
        Some(self.left())
    }
}
