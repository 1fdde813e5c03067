//! Reading an import file: a header row, then rows of text cells, from CSV or xlsx.

use std::io::{Read, Seek};

use calamine::{Data, DataType, Reader, Xlsx};

/// One data row of the file.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its line (CSV) or row (xlsx) number as a spreadsheet shows it: the header is 1.
    pub line: u64,
    pub cells: Vec<String>,
}

impl Row {
    /// Why the row does not fit a header of `width` columns of a file written as
    /// `format`, if it does not: a row with a non-empty cell past the header's last
    /// column (in CSV, an unquoted comma in a name split it; in a workbook, values
    /// were typed right of the named columns), or, in CSV, with fewer cells (a stray
    /// quote swallowed the line break and the lines after it into one cell). Empty
    /// cells past the header, as Excel writes them (`a,b,,`), fit.
    pub fn misfit(&self, width: usize, format: FileFormat) -> Option<String> {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let shape = |cells: usize| {
            format!(
                "row has {}, the header has {}",
                plural(cells, "cell"),
                plural(width, "column")
            )
        };
        let cells = self.cells.len();
        if cells > width {
            // Up to its last value: a sheet's rows are all as wide as its widest.
            let used = self.cells.iter().rposition(|c| !c.trim().is_empty())? + 1;
            return (used > width).then(|| match format {
                FileFormat::Csv => format!(
                    "{}: quote a cell that holds a comma (\"Acme, Inc.\")",
                    shape(used)
                ),
                FileFormat::Xlsx => format!(
                    "{}: the values right of the last named column have no column; \
                     name their columns in the header row, or clear them",
                    shape(used)
                ),
            });
        }
        if cells < width {
            let broken = self.cells.iter().any(|c| c.contains(['\n', '\r']));
            return Some(if broken {
                format!(
                    "{}, and a cell runs over several lines: a quote is probably \
                     unbalanced, so that the lines after it were read into one cell",
                    shape(cells)
                )
            } else {
                shape(cells)
            });
        }
        None
    }
}

/// The file cannot be read as a table at all.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("not a readable xlsx workbook: {0}")]
    Xlsx(String),
    /// Not a zip archive, as every xlsx workbook is: another kind of file, or one
    /// cut short.
    #[error("not an xlsx workbook: it does not read as the zip archive an .xlsx file is; save it again as .xlsx, or as CSV")]
    NotXlsx,
    #[error("the file is empty: it needs a header row")]
    Empty,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// From the file's extension; anything but `.xlsx` is read as CSV.
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("xlsx") => FileFormat::Xlsx,
            _ => FileFormat::Csv,
        }
    }
}

/// A table being read: its header, then its rows one by one.
pub struct Table {
    pub header: Vec<String>,
    pub format: FileFormat,
    rows: Rows,
    /// How far through the file reading is, in `size`'s unit (bytes or rows).
    position: u64,
    pub size: u64,
}

enum Rows {
    Csv(
        Box<csv::Reader<Tail<Box<dyn Read + Send>>>>,
        csv::StringRecord,
    ),
    Sheet(std::vec::IntoIter<Row>),
}

impl Table {
    /// A CSV table of `size` bytes (for progress; 0 when unknown).
    pub fn csv(input: Box<dyn Read + Send>, size: u64) -> Result<Self, TableError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Rows of another width than the header are read, so that each is
            // rejected on its own with its line (`Row::misfit`), not the whole file.
            .flexible(true)
            .from_reader(Tail::new(input));
        let mut record = csv::StringRecord::new();
        let has_header = reader.read_record(&mut record).map_err(csv_error)?;
        if !has_header {
            return Err(TableError::Empty);
        }
        let header = record
            .iter()
            .enumerate()
            .map(|(i, h)| {
                // A byte-order mark, as spreadsheet programs write one.
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_string()
            })
            .collect();
        Ok(Table {
            header: named(header),
            format: FileFormat::Csv,
            rows: Rows::Csv(Box::new(reader), record),
            position: 0,
            size,
        })
    }

    /// The first sheet of an xlsx workbook.
    pub fn xlsx(input: impl Read + Seek) -> Result<Self, TableError> {
        let mut workbook: Xlsx<_> = Xlsx::new(input).map_err(|e| match e {
            calamine::XlsxError::Zip(_) => TableError::NotXlsx,
            other => TableError::Xlsx(other.to_string()),
        })?;
        let range = workbook
            .worksheet_range_at(0)
            .ok_or(TableError::Empty)?
            .map_err(|e| TableError::Xlsx(e.to_string()))?;
        // The sheet's used range may start below row 1 or right of column A.
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        let pad = first_column as usize;
        let mut rows = range.rows().enumerate().map(|(i, cells)| Row {
            line: u64::from(first_row) + i as u64 + 1,
            cells: std::iter::repeat_n(String::new(), pad)
                .chain(cells.iter().map(text))
                .collect(),
        });
        let header = rows
            .next()
            .ok_or(TableError::Empty)?
            .cells
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        let rows: Vec<Row> = rows.collect();
        Ok(Table {
            header: named(header),
            format: FileFormat::Xlsx,
            size: rows.len() as u64,
            rows: Rows::Sheet(rows.into_iter()),
            position: 0,
        })
    }

    /// How far reading has come, in `size`'s unit.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next row with any non-empty cell.
    pub fn next_row(&mut self) -> Result<Option<Row>, TableError> {
        loop {
            let row = match &mut self.rows {
                Rows::Csv(reader, record) => {
                    if !reader.read_record(record).map_err(csv_error)? {
                        return Ok(None);
                    }
                    let end = reader.position();
                    self.position = end.byte();
                    Row {
                        line: first_line(record, end, reader.get_ref()),
                        cells: record.iter().map(str::to_string).collect(),
                    }
                }
                Rows::Sheet(rows) => match rows.next() {
                    Some(row) => {
                        self.position += 1;
                        row
                    }
                    None => return Ok(None),
                },
            };
            if row.cells.iter().any(|c| !c.trim().is_empty()) {
                return Ok(Some(row));
            }
        }
    }
}

/// A header without its empty cells past its last name: they are no columns, so
/// that a row with values beyond the named columns does not fit (`Row::misfit`)
/// rather than losing them. A sheet's rows are all as wide as its widest, the header
/// included, and a CSV file saved from such a sheet has a header ending `,,`.
fn named(mut header: Vec<String>) -> Vec<String> {
    while header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    header
}

/// The line a CSV record starts on. The reader gives the position where it began
/// reading, before any blank lines it passed over, so the start is worked back from
/// the end: lines inside quoted cells, and the record's line break unless the input
/// ended without one, or ended inside a quote that was never closed (whose cell then
/// holds the input's last line break). The header is line 1, so a row is 2 at least.
fn first_line<R>(record: &csv::StringRecord, end: &csv::Position, input: &Tail<R>) -> u64 {
    let inner: u64 = record
        .iter()
        .map(|cell| cell.bytes().filter(|b| *b == b'\n').count() as u64)
        .sum();
    let at_end = input.ended && end.byte() == input.read;
    let unclosed = at_end
        && input.before_break != b'"'
        && record
            .get(record.len().saturating_sub(1))
            .is_some_and(|cell| cell.ends_with(['\n', '\r']));
    let broken = !at_end || (!unclosed && (input.last == b'\n' || input.last == b'\r'));
    end.line().saturating_sub(inner + u64::from(broken)).max(2)
}

/// A reader that remembers how much it gave, its last byte, its last byte that is
/// not a line break, and whether it ended.
struct Tail<R> {
    inner: R,
    read: u64,
    last: u8,
    before_break: u8,
    ended: bool,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Self {
        Tail {
            inner,
            read: 0,
            last: 0,
            before_break: 0,
            ended: false,
        }
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf[..n].last() {
            Some(last) => self.last = *last,
            None => self.ended = !buf.is_empty(),
        }
        if let Some(byte) = buf[..n].iter().rev().find(|b| !matches!(b, b'\n' | b'\r')) {
            self.before_break = *byte;
        }
        self.read += n as u64;
        Ok(n)
    }
}

fn csv_error(error: csv::Error) -> TableError {
    let line = error.position().map_or(0, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "is not UTF-8 text; save the file as \"CSV UTF-8\" (Excel) or convert it".to_string()
        }
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => error.to_string(),
    };
    TableError::Csv { line, message }
}

/// A spreadsheet cell as the text a CSV file would hold: whole numbers without a
/// fraction, dates as ISO 8601 (a date alone when there is no time of day).
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) => match cell.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => String::new(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{FileFormat, Row};

    fn misfit(cells: &[&str], width: usize) -> Option<String> {
        let row = Row {
            line: 2,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        };
        row.misfit(width, FileFormat::Csv)
    }

    #[test]
    fn rows_fit_their_header() {
        assert_eq!(misfit(&["a", "b"], 2), None);
        assert_eq!(misfit(&["a", "b", "", " "], 2), None, "Excel's empty cells");
        let split = misfit(&["Acme", " Inc.", "chemicals"], 2).unwrap_or_default();
        assert!(
            split.starts_with("row has 3 cells, the header has 2 columns"),
            "{split}"
        );
        assert_eq!(
            misfit(&["Short"], 2).as_deref(),
            Some("row has 1 cell, the header has 2 columns")
        );
        let swallowed = misfit(&["Unterminated,company\nNext,company\n"], 2).unwrap_or_default();
        assert!(swallowed.contains("quote"), "{swallowed}");
    }

    #[test]
    fn sheet_rows_fit_their_header_up_to_their_last_value() {
        let sheet_row = |cells: &[&str]| Row {
            line: 2,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        };
        let padded = sheet_row(&["Acme", "chemicals", "", ""]);
        assert_eq!(padded.misfit(2, FileFormat::Xlsx), None);
        let over = sheet_row(&["Acme", "chemicals", "Ningbo", ""])
            .misfit(2, FileFormat::Xlsx)
            .unwrap_or_default();
        assert!(
            over.starts_with("row has 3 cells, the header has 2 columns: the values right"),
            "{over}"
        );
    }
}
