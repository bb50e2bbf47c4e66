//! Reading a table of submissions as KoBoToolbox and ODK Central export it: CSV (comma, semicolon
//! or tab separated, UTF-8) or XLSX (the first sheet). A file that cannot be read whole and as
//! intended is refused with a reason a user can act on; nothing is guessed.

use std::collections::HashSet;

/// The largest file read. Larger exports are refused before any byte is read: split them by date.
pub const MAX_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// From the content: an XLSX file is a ZIP archive.
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") { Self::Xlsx } else { Self::Csv }
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is {bytes} bytes; files above {MAX_BYTES} bytes (1 GiB) are refused: export a shorter period")]
    TooLarge { bytes: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the file is UTF-16 text; save or export it as UTF-8 (KoBoToolbox and ODK Central export UTF-8)")]
    Utf16,
    #[error(
        "line {line} is not UTF-8 text (byte {byte}); the file was probably saved in another encoding such as \
         Windows-1251: save or export it as UTF-8"
    )]
    NotUtf8 { line: usize, byte: usize },
    #[error("the header names column `{0}` twice")]
    DuplicateColumn(String),
    #[error("the header has an empty column name (column {0})")]
    UnnamedColumn(usize),
    #[error("not a readable XLSX workbook (damaged or truncated?): {0}")]
    Xlsx(String),
    #[error("the workbook has no sheet")]
    NoSheet,
    #[error("CSV: {0}")]
    Csv(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One data row: its number as the user sees it (line in a CSV, row in a spreadsheet) and its
/// cells (one allocation per row, which keeps a million-row file fast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: usize,
    pub cells: csv::StringRecord,
}

/// A file's header and rows. Rows whose cell count differs from the header's are kept (so that
/// they can be reported) and flagged by [`Sheet::ragged`].
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
    /// (row index, column index) of cells that hold a formula instead of a value.
    pub formulas: HashSet<(usize, usize)>,
}

impl Sheet {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Whether a row has another number of cells than the header.
    pub fn ragged(&self, row: &Row) -> bool {
        row.cells.len() != self.header.len()
    }
}

/// Reads CSV or XLSX from memory, whichever the content is.
pub fn read(bytes: &[u8]) -> Result<Sheet, ReadError> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ReadError::TooLarge { bytes: bytes.len() as u64 });
    }
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let sheet = match Format::sniff(bytes) {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => guarded(|| read_xlsx(bytes))?,
    };
    check_header(&sheet.header)?;
    Ok(sheet)
}

fn check_header(header: &[String]) -> Result<(), ReadError> {
    if header.is_empty() {
        return Err(ReadError::Empty);
    }
    let mut seen = HashSet::new();
    for (n, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(ReadError::UnnamedColumn(n + 1));
        }
        if !seen.insert(name.as_str()) {
            return Err(ReadError::DuplicateColumn(name.clone()));
        }
    }
    Ok(())
}

/// UTF-8 text without its byte order mark, or where it stops being UTF-8.
fn utf8(bytes: &[u8]) -> Result<&str, ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        ReadError::NotUtf8 { line: 1 + bytes[..at].iter().filter(|b| **b == b'\n').count(), byte: at + 1 }
    })
}

/// The separator of the header line: whichever of `,` `;` tab occurs most outside quotes
/// (KoBoToolbox exports `;` by default, ODK Central `,`).
fn separator(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|n| (counts[*n], std::cmp::Reverse(*n))).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let text = utf8(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> =
        reader.headers().map_err(|e| ReadError::Csv(e.to_string()))?.iter().map(|h| h.trim().to_owned()).collect();
    let mut sheet = Sheet { header, ..Sheet::default() };
    let mut record = csv::StringRecord::new();
    // Line numbers counted from the bytes, the way an editor numbers lines: the reader's own
    // count runs one short after CRLF line ends (what Windows and Python write).
    let (mut counted_to, mut line) = (0usize, 1usize);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut start = record.position().map_or(counted_to, |p| p.byte() as usize).max(counted_to);
                // The position may be that of blank lines skipped before the record.
                while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
                    start += 1;
                }
                line += count_newlines(&text.as_bytes()[counted_to..start]);
                counted_to = start;
                let number = line;
                let row = sheet.rows.len();
                for (col, cell) in record.iter().enumerate() {
                    if looks_like_formula(cell) {
                        sheet.formulas.insert((row, col));
                    }
                }
                sheet.rows.push(Row { number, cells: record.clone() });
            }
            Err(e) => return Err(ReadError::Csv(e.to_string())),
        }
    }
    Ok(sheet)
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// A CSV cell that a spreadsheet would run: `=SUM(A1:A3)`, `=1+2`.
fn looks_like_formula(cell: &str) -> bool {
    cell.len() > 1 && cell.starts_with('=')
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let mut book = workbook(bytes)?;
    let name = calamine::Reader::sheet_names(&book).first().cloned().ok_or(ReadError::NoSheet)?;
    worksheet(&mut book, &name)
}

type Workbook<'a> = calamine::Xlsx<std::io::Cursor<&'a [u8]>>;

fn workbook(bytes: &[u8]) -> Result<Workbook<'_>, ReadError> {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ReadError::Xlsx(e.to_string()))
}

/// The named sheets of a workbook (matched without regard to case); `None` for a missing one.
pub fn read_sheets(bytes: &[u8], names: &[&str]) -> Result<Vec<Option<Sheet>>, ReadError> {
    guarded(|| read_named_sheets(bytes, names))
}

thread_local! {
    /// Set while [`guarded`] runs the reader: its panics are answered as errors, not reported.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs the XLSX reader so that a damaged workbook it trips over (it can index past the end of
/// its shared strings) is a refused file, not a crash, and prints no panic message before the
/// refusal (every other panic is reported as before).
fn guarded<T>(read: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !READING.with(std::cell::Cell::get) {
                report(info);
            }
        }));
    });
    READING.with(|r| r.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    READING.with(|r| r.set(false));
    outcome.unwrap_or_else(|_| Err(ReadError::Xlsx("the workbook's contents are inconsistent".into())))
}

fn read_named_sheets(bytes: &[u8], names: &[&str]) -> Result<Vec<Option<Sheet>>, ReadError> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ReadError::TooLarge { bytes: bytes.len() as u64 });
    }
    // XLSForms are still kept as legacy .xls workbooks (pyxform reads both).
    if bytes.starts_with(&OLE_MAGIC) {
        let mut book: calamine::Xls<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
            .map_err(|e: calamine::XlsError| ReadError::Xlsx(e.to_string()))?;
        return named_sheets(&mut book, names);
    }
    if Format::sniff(bytes) != Format::Xlsx {
        return Err(ReadError::Xlsx("not an XLSX or XLS workbook".into()));
    }
    named_sheets(&mut workbook(bytes)?, names)
}

/// The start of an OLE compound file: a legacy Excel (.xls) workbook.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn named_sheets<RS, R>(book: &mut R, names: &[&str]) -> Result<Vec<Option<Sheet>>, ReadError>
where
    RS: std::io::Read + std::io::Seek,
    R: calamine::Reader<RS>,
    R::Error: std::fmt::Display,
{
    let all = book.sheet_names();
    let mut out = Vec::new();
    for name in names {
        match all.iter().find(|n| n.trim().eq_ignore_ascii_case(name)) {
            Some(found) => {
                let sheet = worksheet(book, found)?;
                if !sheet.header.is_empty() {
                    check_header(&sheet.header)?;
                }
                out.push(Some(sheet));
            }
            None => out.push(None),
        }
    }
    Ok(out)
}

fn worksheet<RS, R>(book: &mut R, name: &str) -> Result<Sheet, ReadError>
where
    RS: std::io::Read + std::io::Seek,
    R: calamine::Reader<RS>,
    R::Error: std::fmt::Display,
{
    let range = book.worksheet_range(name).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let formulas = book.worksheet_formula(name).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let Some((first_row, first_col)) = range.start() else { return Ok(Sheet::default()) };
    let mut rows = range.rows();
    let header: Vec<String> =
        rows.next().map(|r| r.iter().map(|c| cell_text(c).trim().to_owned()).collect()).unwrap_or_default();
    let width = header.iter().rposition(|h| !h.is_empty()).map_or(0, |n| n + 1);
    let mut sheet = Sheet { header: header[..width].to_vec(), ..Sheet::default() };
    for (n, r) in rows.enumerate() {
        let mut cells: Vec<String> = r.iter().map(cell_text).collect();
        // Trailing empty cells are how a spreadsheet pads a row, not data.
        while cells.len() > width && cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let number = first_row as usize + n + 2;
        sheet.rows.push(Row { number, cells: csv::StringRecord::from(cells) });
    }
    // Formula cells by their position in the sheet, translated to (data row index, column).
    let numbers: std::collections::HashMap<usize, usize> =
        sheet.rows.iter().enumerate().map(|(i, r)| (r.number, i)).collect();
    for (row, col, formula) in formulas.used_cells() {
        if formula.is_empty() {
            continue;
        }
        let number = formulas.start().map_or(0, |s| s.0 as usize) + row + 1;
        let col = formulas.start().map_or(0, |s| s.1 as usize) + col;
        if let (Some(&index), Some(col)) = (numbers.get(&number), col.checked_sub(first_col as usize))
            && col < sheet.rows[index].cells.len()
        {
            sheet.formulas.insert((index, col));
        }
    }
    Ok(sheet)
}

fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`, with the time when there is one.
fn excel_date(serial: f64) -> String {
    let epoch = jiff::civil::date(1899, 12, 30).at(0, 0, 0, 0);
    let seconds = (serial * 86_400.0).round() as i64;
    match epoch.checked_add(jiff::Span::new().seconds(seconds)) {
        Ok(dt) if dt.time() == jiff::civil::Time::midnight() => dt.date().to_string(),
        Ok(dt) => dt.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        Err(_) => serial.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kobo_semicolons_and_odk_commas_are_both_read() {
        let kobo = read("start;group_a/q1;_uuid\n2026-01-02;1;abc\n".as_bytes()).unwrap();
        assert_eq!(kobo.header, ["start", "group_a/q1", "_uuid"]);
        assert_eq!(kobo.rows[0].cells, vec!["2026-01-02", "1", "abc"]);
        let odk = read("\u{feff}SubmissionDate,group-q1,KEY\n\"2026-01-02, 10:00\",1,uuid:x\n".as_bytes()).unwrap();
        assert_eq!(odk.header, ["SubmissionDate", "group-q1", "KEY"]);
        assert_eq!(&odk.rows[0].cells[0], "2026-01-02, 10:00");
        assert_eq!(odk.rows[0].number, 2);
    }

    #[test]
    fn rows_are_numbered_as_an_editor_numbers_lines_whatever_the_line_ends() {
        for end in ["\n", "\r\n"] {
            let text = ["a,b", "1,2", "3,\"two", "lines\"", "", "5,6", ""].join(end);
            let sheet = read(text.as_bytes()).unwrap();
            let numbers: Vec<usize> = sheet.rows.iter().map(|r| r.number).collect();
            assert_eq!(numbers, [2, 3, 6], "line ends {end:?}");
        }
    }

    #[test]
    fn windows_1251_is_refused_with_its_line() {
        let mut bytes = b"name,q1\nok,1\n".to_vec();
        bytes.extend_from_slice(&[0xC8, 0xE2, 0xE0, 0xED, b',', b'1', b'\n']);
        match read(&bytes) {
            Err(ReadError::NotUtf8 { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        assert!(matches!(read(&[0xFF, 0xFE, b'a', 0]), Err(ReadError::Utf16)));
    }

    #[test]
    fn ragged_rows_and_formulas_are_marked() {
        let sheet = read(b"a,b,c\n1,2,3\n1,2\n=SUM(A1:A2),2,3\n").unwrap();
        assert!(!sheet.ragged(&sheet.rows[0]));
        assert!(sheet.ragged(&sheet.rows[1]));
        assert!(sheet.formulas.contains(&(2, 0)));
    }

    #[test]
    fn duplicate_and_empty_headers_are_refused() {
        assert!(matches!(read(b"a,b,a\n1,2,3\n"), Err(ReadError::DuplicateColumn(c)) if c == "a"));
        assert!(matches!(read(b"a,,c\n1,2,3\n"), Err(ReadError::UnnamedColumn(2))));
        assert!(matches!(read(b""), Err(ReadError::Empty)));
    }

    #[test]
    fn a_truncated_workbook_is_refused() {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&[0u8; 64]);
        assert!(matches!(read(&bytes), Err(ReadError::Xlsx(_))));
    }

    #[test]
    fn excel_dates_read_as_iso() {
        assert_eq!(excel_date(46_023.0), "2026-01-01");
        assert_eq!(excel_date(46_023.5), "2026-01-01T12:00:00");
    }
}
