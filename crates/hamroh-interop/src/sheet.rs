//! Reading a table of submissions as KoBoToolbox and ODK Central export it: CSV (comma, semicolon
//! or tab separated, UTF-8) or XLSX (the first sheet). A file that cannot be read whole and as
//! intended is refused with a reason a user can act on; nothing is guessed.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

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

/// One data row: its number as the user sees it (line in a CSV, row in a spreadsheet), its cells
/// (one allocation per row, which keeps a million-row file fast) and the columns whose cell holds
/// a formula instead of a value (almost always none, and then nothing is allocated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: usize,
    pub cells: csv::StringRecord,
    pub formulas: Vec<usize>,
}

/// A file's header and rows, read whole. Rows whose cell count differs from the header's are kept
/// (so that they can be reported) and flagged by [`ragged`].
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

impl Sheet {
    pub fn column(&self, name: &str) -> Option<usize> {
        column(&self.header, name)
    }
}

/// A column's index by its name in the header.
pub fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

/// Whether a row has another number of cells than the header.
pub fn ragged(header: &[String], row: &Row) -> bool {
    row.cells.len() != header.len()
}

/// Where a table of submissions comes from: memory, or a file read as it is checked.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Bytes(&'a [u8]),
    Path(&'a Path),
}

/// What [`stream`] hands its rows to, in file order.
pub trait RowSink {
    /// The header, checked, before any row. `false` stops the reading.
    fn header(&mut self, header: &[String]) -> bool;
    /// A data row; `read` is how many bytes of a CSV file are read so far (0 for a workbook,
    /// whose compressed size says nothing of the rows). `false` stops the reading.
    fn row(&mut self, row: Row, read: u64) -> bool;
}

/// Reads CSV or XLSX (whichever the content is) row by row without holding the file: memory
/// stays that of a row (and an XLSX workbook's shared strings), whatever the file's size.
pub fn stream(input: Input<'_>, sink: &mut dyn RowSink) -> Result<(), ReadError> {
    match input {
        Input::Bytes(bytes) => {
            if bytes.len() as u64 > MAX_BYTES {
                return Err(ReadError::TooLarge { bytes: bytes.len() as u64 });
            }
            match Format::sniff(bytes) {
                Format::Csv => stream_csv(bytes, sink),
                Format::Xlsx => guarded(|| stream_xlsx(&|| Ok(std::io::Cursor::new(bytes)), sink)),
            }
        }
        Input::Path(path) => {
            let size = std::fs::metadata(path)?.len();
            if size > MAX_BYTES {
                return Err(ReadError::TooLarge { bytes: size });
            }
            let mut start = [0u8; 4];
            let mut file = std::fs::File::open(path)?;
            let n = std::io::Read::read(&mut file, &mut start)?;
            drop(file);
            let open = || -> Result<_, ReadError> { Ok(std::io::BufReader::new(std::fs::File::open(path)?)) };
            match Format::sniff(&start[..n]) {
                Format::Csv => stream_csv(open()?, sink),
                Format::Xlsx => guarded(|| stream_xlsx(&open, sink)),
            }
        }
    }
}

/// Reads CSV or XLSX from memory, whichever the content is, whole.
pub fn read(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let mut whole = Whole::default();
    stream(Input::Bytes(bytes), &mut whole)?;
    Ok(whole.0)
}

/// A sink that keeps every row.
#[derive(Default)]
struct Whole(Sheet);

impl RowSink for Whole {
    fn header(&mut self, header: &[String]) -> bool {
        self.0.header = header.to_vec();
        true
    }

    fn row(&mut self, row: Row, _: u64) -> bool {
        self.0.rows.push(row);
        true
    }
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

/// The separator of the header line: whichever of `,` `;` tab occurs most outside quotes
/// (KoBoToolbox exports `;` by default, ODK Central `,`).
fn separator(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in line {
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

/// The largest header line read to choose the separator.
const MAX_HEADER_BYTES: usize = 16 << 20;

fn stream_csv(mut input: impl std::io::Read, sink: &mut dyn RowSink) -> Result<(), ReadError> {
    // The header line is read first to choose the separator, then read again ahead of the rest.
    let head = header_line(&mut input)?;
    if head.is_empty() {
        return Err(ReadError::Empty);
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let delimiter = separator(&head[bom..]);
    let lines = std::rc::Rc::new(std::cell::RefCell::new(Lines::default()));
    let tracked = Tracked::new(std::io::Cursor::new(head).chain(input), bom, lines.clone());
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(true).from_reader(tracked);
    let failed = |e: csv::Error, lines: &Lines| match lines.bad {
        Some((line, byte)) => ReadError::NotUtf8 { line, byte },
        None => ReadError::Csv(e.to_string()),
    };
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_owned()).collect(),
        Err(e) => return Err(failed(e, &lines.borrow())),
    };
    check_header(&header)?;
    if !sink.header(&header) {
        return Ok(());
    }
    loop {
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let (number, read) = {
                    let mut lines = lines.borrow_mut();
                    let start = record.position().map_or(0, |p| p.byte());
                    (lines.line_at(start), lines.read)
                };
                let formulas = (0..record.len()).filter(|&c| looks_like_formula(&record[c])).collect();
                if !sink.row(Row { number, cells: record, formulas }, read) {
                    return Ok(());
                }
            }
            Err(e) => return Err(failed(e, &lines.borrow())),
        }
    }
}

/// The bytes up to and with the first line end outside quotes (or the whole input, if shorter).
fn header_line(input: &mut impl std::io::Read) -> Result<Vec<u8>, ReadError> {
    let mut head = Vec::new();
    let mut quoted = false;
    let mut block = [0u8; 8192];
    loop {
        let n = input.read(&mut block)?;
        if n == 0 {
            return Ok(head);
        }
        for b in &block[..n] {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    head.extend_from_slice(&block[..n]);
                    return Ok(head);
                }
                _ => {}
            }
        }
        head.extend_from_slice(&block[..n]);
        if head.len() > MAX_HEADER_BYTES {
            return Err(ReadError::Csv("the first line is longer than 16 MiB: is this a CSV export?".into()));
        }
    }
}

/// Where the lines of a CSV file begin, as far as the reader has read ahead, and where the text
/// stopped being UTF-8, if it did.
#[derive(Default)]
struct Lines {
    /// (byte offset, line number) of each line that begins with text (not a line end), from the
    /// oldest record not yet numbered: a few kilobytes' worth, what the CSV reader buffers.
    starts: std::collections::VecDeque<(u64, usize)>,
    /// Bytes read so far (after any byte order mark).
    read: u64,
    /// (line, byte) of the first byte that is not UTF-8.
    bad: Option<(usize, usize)>,
}

impl Lines {
    /// The line of a record that the reader found at `offset`: where its text begins, past any
    /// blank lines, numbered the way an editor numbers lines (the reader's own count runs one short
    /// after CRLF line ends, what Windows and Python write).
    fn line_at(&mut self, offset: u64) -> usize {
        while self.starts.front().is_some_and(|s| s.0 < offset) {
            self.starts.pop_front();
        }
        self.starts.front().map_or(1, |s| s.1)
    }
}

/// A reader that checks that its bytes are UTF-8 and notes where lines begin as they pass.
struct Tracked<R> {
    inner: R,
    /// Bytes of the input still to drop (a byte order mark).
    skip: usize,
    offset: u64,
    line: usize,
    at_line_start: bool,
    /// The start of a character cut by the end of the last read.
    carry: Vec<u8>,
    lines: std::rc::Rc<std::cell::RefCell<Lines>>,
}

impl<R> Tracked<R> {
    fn new(inner: R, skip: usize, lines: std::rc::Rc<std::cell::RefCell<Lines>>) -> Self {
        Self { inner, skip, offset: 0, line: 1, at_line_start: true, carry: Vec::new(), lines }
    }

    fn not_utf8(&mut self, at: u64) -> std::io::Error {
        self.lines.borrow_mut().bad = Some((self.line, at as usize + 1));
        std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8")
    }

    /// Checks `data` (which follows what was checked before) and notes its lines.
    fn scan(&mut self, data: &[u8]) -> std::io::Result<()> {
        let mut rest = data;
        let mut base = self.offset;
        if !self.carry.is_empty() {
            let width = utf8_width(self.carry[0]);
            let take = (width - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.carry.len() == width {
                let start = base - (width - take) as u64;
                if std::str::from_utf8(&self.carry).is_err() {
                    return Err(self.not_utf8(start));
                }
                self.carry.clear();
            }
            base += take as u64;
        }
        match std::str::from_utf8(rest) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => self.carry.extend_from_slice(&rest[e.valid_up_to()..]),
            Err(e) => {
                self.note_lines(&rest[..e.valid_up_to()], base);
                return Err(self.not_utf8(base + e.valid_up_to() as u64));
            }
        };
        self.note_lines(rest, base);
        self.offset += data.len() as u64;
        self.lines.borrow_mut().read = self.offset;
        Ok(())
    }

    fn note_lines(&mut self, data: &[u8], base: u64) {
        let mut lines = self.lines.borrow_mut();
        for (i, &b) in data.iter().enumerate() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at_line_start = true;
                }
                b'\r' => {}
                _ if self.at_line_start => {
                    lines.starts.push_back((base + i as u64, self.line));
                    self.at_line_start = false;
                }
                _ => {}
            }
        }
    }
}

/// The length of the UTF-8 sequence that `lead` begins (1 for a byte that cannot begin one).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

impl<R: std::io::Read> std::io::Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                if !self.carry.is_empty() {
                    let at = self.offset - self.carry.len() as u64;
                    return Err(self.not_utf8(at));
                }
                return Ok(0);
            }
            let dropped = self.skip.min(n);
            self.skip -= dropped;
            if dropped == n {
                continue;
            }
            buf.copy_within(dropped..n, 0);
            let n = n - dropped;
            self.scan(&buf[..n])?;
            return Ok(n);
        }
    }
}

/// A CSV cell that a spreadsheet would run: `=SUM(A1:A3)`, `=1+2`.
fn looks_like_formula(cell: &str) -> bool {
    cell.len() > 1 && cell.starts_with('=')
}

/// The first sheet of an XLSX workbook, cell by cell. calamine reads a sheet's values and its
/// formulas in separate walks, so a second reader of the same workbook walks the same cells in
/// step for their formulas.
fn stream_xlsx<RS: std::io::Read + std::io::Seek>(
    open: &dyn Fn() -> Result<RS, ReadError>,
    sink: &mut dyn RowSink,
) -> Result<(), ReadError> {
    let xlsx = |e: calamine::XlsxError| ReadError::Xlsx(e.to_string());
    let mut values: calamine::Xlsx<RS> = calamine::open_workbook_from_rs(open()?).map_err(xlsx)?;
    let name = calamine::Reader::sheet_names(&values).first().cloned().ok_or(ReadError::NoSheet)?;
    let mut formulas: calamine::Xlsx<RS> = calamine::open_workbook_from_rs(open()?).map_err(xlsx)?;
    let mut cells = values.worksheet_cells_reader(&name).map_err(xlsx)?;
    let mut formula_cells = formulas.worksheet_cells_reader(&name).map_err(xlsx)?;
    let mut rows = XlsxRows::default();
    loop {
        let cell = cells.next_cell().map_err(xlsx)?;
        let formula = formula_cells.next_formula().map_err(xlsx)?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        if formula.as_ref().map(|f| f.get_position()) != Some((row, col)) {
            return Err(ReadError::Xlsx("the sheet's cells and formulas do not match".into()));
        }
        if rows.row != Some(row) && !rows.flush(sink)? {
            return Ok(());
        }
        rows.row = Some(row);
        let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
        let has_formula = formula.is_some_and(|f| !f.get_value().is_empty());
        rows.cells.push((col, text, has_formula));
    }
    rows.flush(sink)?;
    if rows.header.is_none() {
        return Err(ReadError::Empty);
    }
    Ok(())
}

/// The row being gathered from a workbook's cells, and the header once read.
#[derive(Default)]
struct XlsxRows {
    row: Option<u32>,
    cells: Vec<(u32, String, bool)>,
    /// The header's first column and width.
    header: Option<(u32, usize)>,
}

impl XlsxRows {
    /// Hands the gathered row on: the first row with any text is the header; later rows are
    /// data, placed under the header's columns, without the empty cells a spreadsheet pads a
    /// row with. `false` when the sink stops the reading.
    fn flush(&mut self, sink: &mut dyn RowSink) -> Result<bool, ReadError> {
        let cells = std::mem::take(&mut self.cells);
        let Some(row) = self.row.take() else { return Ok(true) };
        if cells.iter().all(|c| c.1.is_empty()) {
            return Ok(true);
        }
        match self.header {
            None => {
                let first = cells.iter().find(|c| !c.1.is_empty()).map_or(0, |c| c.0);
                let mut header = Vec::new();
                for (col, text, _) in cells.into_iter().filter(|c| c.0 >= first) {
                    header.resize((col - first) as usize, String::new());
                    header.push(text.trim().to_owned());
                }
                let width = header.iter().rposition(|h| !h.is_empty()).map_or(0, |n| n + 1);
                header.truncate(width);
                check_header(&header)?;
                self.header = Some((first, width));
                Ok(sink.header(&header))
            }
            Some((first, width)) => {
                let mut texts: Vec<String> = Vec::with_capacity(width);
                let mut formulas = Vec::new();
                for (col, text, formula) in cells.into_iter().filter(|c| c.0 >= first) {
                    let at = (col - first) as usize;
                    texts.resize(at, String::new());
                    texts.push(text);
                    if formula {
                        formulas.push(at);
                    }
                }
                while texts.len() > width && texts.last().is_some_and(String::is_empty) {
                    texts.pop();
                }
                formulas.retain(|c| *c < texts.len());
                let number = row as usize + 1;
                Ok(sink.row(Row { number, cells: csv::StringRecord::from(texts), formulas }, 0))
            }
        }
    }
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
        sheet.rows.push(Row { number, cells: csv::StringRecord::from(cells), formulas: Vec::new() });
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
            sheet.rows[index].formulas.push(col);
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

    /// A reader that hands out one byte at a time, so that every character and line end is cut
    /// by the end of a read somewhere.
    struct Trickle<'a>(&'a [u8]);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(out)) => {
                    *out = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn trickled(bytes: &[u8]) -> Result<Sheet, ReadError> {
        let mut whole = Whole::default();
        stream_csv(Trickle(bytes), &mut whole)?;
        Ok(whole.0)
    }

    #[test]
    fn a_file_read_a_byte_at_a_time_reads_as_one_read_whole() {
        let text = "\u{feff}ном;шаҳр\r\nРаҳимов;Кӯлоб\r\n\r\n\"Ҳ\r\nҶ\";=1+1\r\nx;y";
        let whole = read(text.as_bytes()).unwrap();
        let trickled = trickled(text.as_bytes()).unwrap();
        assert_eq!(whole.header, ["ном", "шаҳр"]);
        assert_eq!(trickled.header, whole.header);
        assert_eq!(trickled.rows, whole.rows);
        let numbers: Vec<usize> = trickled.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4, 6]);
        assert_eq!(&trickled.rows[1].cells[0], "Ҳ\r\nҶ");
        assert_eq!(trickled.rows[1].formulas, [1]);
    }

    #[test]
    fn a_character_cut_by_a_read_is_text_and_a_broken_one_names_its_line_and_byte() {
        let mut bytes = "a,b\nҶ,1\n".as_bytes().to_vec();
        bytes.extend_from_slice(&[b'x', 0xD2, b',', b'1', b'\n']);
        for result in [read(&bytes), trickled(&bytes)] {
            match result {
                Err(ReadError::NotUtf8 { line, byte }) => assert_eq!((line, byte), (3, 11)),
                other => panic!("{other:?}"),
            }
        }
        // A file that ends inside a character.
        assert!(matches!(trickled(&[b'a', b'\n', 0xD2]), Err(ReadError::NotUtf8 { line: 2, byte: 3 })));
    }

    #[test]
    fn reading_stops_when_the_sink_says_so() {
        struct FirstOnly(Vec<usize>);
        impl RowSink for FirstOnly {
            fn header(&mut self, _: &[String]) -> bool {
                true
            }
            fn row(&mut self, row: Row, read: u64) -> bool {
                assert!(read > 0, "a CSV file says how far it is read");
                self.0.push(row.number);
                false
            }
        }
        let mut sink = FirstOnly(Vec::new());
        stream(Input::Bytes(b"a\n1\n2\n3\n"), &mut sink).unwrap();
        assert_eq!(sink.0, [2]);
    }

    #[test]
    fn a_workbook_streams_its_rows_under_the_header_with_formulas_marked() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        // The table starts at B2; row 4 is empty; a padded empty cell ends row 5.
        sheet.write_string(1, 1, "_uuid").unwrap();
        sheet.write_string(1, 2, "q1").unwrap();
        sheet.write_string(2, 1, "k-1").unwrap();
        sheet.write_number(2, 2, 3).unwrap();
        sheet.write_string(4, 1, "k-2").unwrap();
        sheet.write_formula(4, 2, "=1+1").unwrap();
        sheet.write_string(4, 4, "").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let read = read(&bytes).unwrap();
        assert_eq!(read.header, ["_uuid", "q1"]);
        let rows: Vec<(usize, Vec<&str>, &[usize])> =
            read.rows.iter().map(|r| (r.number, r.cells.iter().collect(), r.formulas.as_slice())).collect();
        assert_eq!(rows, [(3, vec!["k-1", "3"], &[][..]), (5, vec!["k-2", "0"], &[1][..])]);
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
        assert!(!ragged(&sheet.header, &sheet.rows[0]));
        assert!(ragged(&sheet.header, &sheet.rows[1]));
        assert_eq!(sheet.rows[2].formulas, [0]);
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
