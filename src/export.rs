//! Exports: every record of a list, page by page (so memory stays constant however
//! many there are), as CSV or JSON lines. Used by `liaison export` and by the list
//! endpoints when they are asked for `text/csv`.

use std::io::Write;

use serde_json::Value;

use crate::db::{self, DbConn};
use crate::domain::DomainError;
use crate::http::resource::Resource;

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A header row, then one row per record; lists and objects (a visit's
    /// participants) are JSON in their cell.
    Csv,
    /// One JSON object per line (JSON Lines), exactly as the API returns records.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Csv(#[from] csv::Error),
}

impl From<diesel::result::Error> for ExportError {
    fn from(error: diesel::result::Error) -> Self {
        ExportError::Db(error.into())
    }
}

/// Begins every CSV written: Excel reads a CSV without it in the system's code page
/// (GBK on Chinese Windows), garbling every Chinese name. Imports skip it.
pub const BOM: &str = "\u{feff}";

/// Where the records go: through a CSV writer, or straight out as JSON lines.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json(W),
}

/// Writes every record `filter` selects to `out`, in the filter's order, starting at
/// its cursor; `progress` hears the running count after each page. Returns the count.
///
/// All pages are read in one snapshot (`db::snapshot`): without it, a record changed
/// between two pages moves in an order by `updated_at` and is written twice, or
/// never. The snapshot is held until the last page is written, however slowly the
/// output takes it.
pub fn write_all<R: Resource>(
    conn: &mut DbConn,
    filter: R::Filter,
    format: Format,
    out: impl Write,
    progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    db::snapshot(conn, |conn| {
        write_pages::<R>(conn, filter, format, out, progress)
    })
}

fn write_pages<R: Resource>(
    conn: &mut DbConn,
    mut filter: R::Filter,
    format: Format,
    mut out: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let mut count = 0;
    let mut sink = match format {
        Format::Csv => {
            out.write_all(BOM.as_bytes())?;
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(R::COLUMNS)?;
            Sink::Csv(Box::new(writer))
        }
        Format::Json => Sink::Json(out),
    };
    loop {
        let page = R::list(conn, &filter)?;
        for record in &page.items {
            match &mut sink {
                Sink::Csv(writer) => {
                    let value = serde_json::to_value(record).unwrap_or_default();
                    writer.write_record(R::COLUMNS.iter().map(|c| cell(&value[*c])))?;
                }
                Sink::Json(out) => {
                    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                }
            }
            count += 1;
        }
        match &mut sink {
            Sink::Csv(writer) => writer.flush()?,
            Sink::Json(out) => out.flush()?,
        }
        progress(count);
        match page.next_cursor {
            Some(cursor) => R::next_page(&mut filter, &cursor)?,
            None => break,
        }
    }
    Ok(count)
}

/// A JSON value as a CSV cell: text as it is, `null` empty, lists and objects as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// A `Write` that hands its bytes, in chunks, to an HTTP response being streamed; it
/// waits while the client is slow (so memory stays bounded) and fails once the
/// client has gone.
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

impl ChannelWriter {
    pub fn new(tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>) -> Self {
        ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.len() >= CHUNK / 4 {
            self.send()?;
        }
        Ok(())
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

/// The receiving end, as the body stream of a response.
pub struct ChunkStream(pub tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>);

impl futures_core::Stream for ChunkStream {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::cell;

    #[test]
    fn cells() {
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!("碳湾, \"park\"")), "碳湾, \"park\"");
        assert_eq!(cell(&json!(40)), "40");
        assert_eq!(cell(&json!(true)), "true");
        assert_eq!(cell(&json!([{"id": "x"}])), "[{\"id\":\"x\"}]");
    }
}
