/**
 * A strict CSV reader (RFC 4180) for the producer's CSV upload. No imports: unit-tested in Node.
 *
 * - Every value stays a string exactly as written in the file: no type guessing ("00501" stays
 *   "00501", a 20-digit id stays its digits), no trimming; quoted values keep their commas, quotes
 *   ("" → ") and line breaks (CRLF or LF, as in the file).
 * - Rows are numbered by the file's own line numbers, 1-based, the header being line 1 — the row
 *   number a text editor or a spreadsheet shows. A record whose quoted value spans several lines
 *   is numbered by the line it starts on.
 * - A quote that is opened and never closed makes the whole file unreadable from there on (every
 *   later line would be one value): the file is refused, naming the line, and nothing is sent.
 *   So is a header with an unnamed or duplicate column (two values would collapse into one key).
 * - A data row that does not fit (a different number of values than the header, or text after a
 *   closing quote) is skipped, and listed with its line and why, before anything is sent.
 * - Empty lines are not records. A leading byte-order mark is not part of the first column's name.
 */

export interface CsvRow {
  /** The file's line number where this record starts (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

export interface CsvSkipped {
  line: number;
  reason: string;
}

export type CsvParse =
  | { ok: true; columns: string[]; rows: CsvRow[]; skipped: CsvSkipped[] }
  | { ok: false; line: number; reason: string };

interface RawRecord {
  line: number;
  fields: string[];
  problem: string | null;
}

type Tokens = { ok: true; records: RawRecord[] } | { ok: false; line: number; reason: string };

function tokenize(text: string): Tokens {
  const records: RawRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  let quoted = false; // the current field began with a quote
  let inQuotes = false;
  let closed = false; // the current field's closing quote has been read
  let quoteLine = 1;
  let problem: string | null = null;

  const endRecord = (): void => {
    if (fields.length === 0 && field === '' && !quoted) return; // an empty line
    fields.push(field);
    records.push({ line: recordLine, fields, problem });
    fields = [];
    field = '';
    quoted = closed = false;
    problem = null;
  };

  while (i < n) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else {
          inQuotes = false;
          closed = true;
          i++;
        }
        continue;
      }
      if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      quoted = closed = false;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    if (ch === '"' && field === '' && !quoted) {
      quoted = inQuotes = true;
      quoteLine = line;
      i++;
      continue;
    }
    if (closed && problem === null) {
      problem = `text after the closing quote of value ${fields.length + 1} (a quote inside a quoted value is written "")`;
    }
    field += ch;
    i++;
  }
  if (inQuotes) {
    const where = quoteLine === recordLine ? `line ${recordLine}` : `line ${quoteLine} (in the row that starts on line ${recordLine})`;
    return {
      ok: false,
      line: recordLine,
      reason: `A quote opened on ${where} is never closed, so every line after it would be read as one value. Nothing was sent: fix the quote and choose the file again.`,
    };
  }
  endRecord();
  return { ok: true, records };
}

export function parseCsv(text: string): CsvParse {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const [header, ...data] = tokens.records;
  if (!header) return { ok: false, line: 1, reason: 'The file is empty: the first line must name the columns.' };
  if (header.problem) return { ok: false, line: header.line, reason: `The header line is malformed: ${header.problem}.` };
  const columns = header.fields;
  const seen = new Map<string, number>();
  for (const [i, name] of columns.entries()) {
    if (name === '') return { ok: false, line: header.line, reason: `Column ${i + 1} of the header has no name: every column needs one.` };
    const first = seen.get(name);
    if (first !== undefined) {
      return {
        ok: false,
        line: header.line,
        reason: `Columns ${first + 1} and ${i + 1} are both named "${name}": their values would collapse into one. Rename one and choose the file again.`,
      };
    }
    seen.set(name, i);
  }
  const rows: CsvRow[] = [];
  const skipped: CsvSkipped[] = [];
  for (const record of data) {
    if (record.problem) {
      skipped.push({ line: record.line, reason: `Malformed: ${record.problem}.` });
    } else if (record.fields.length !== columns.length) {
      skipped.push({
        line: record.line,
        reason: `Has ${record.fields.length} ${record.fields.length === 1 ? 'value' : 'values'}, the header names ${columns.length} columns.`,
      });
    } else {
      // fromEntries defines own properties: a column named "__proto__" is a column like any other
      // (an assignment would set the object's prototype), and the object stays plain for IPC.
      const values = Object.fromEntries(columns.map((c, j) => [c, record.fields[j]!])) as Record<string, string>;
      rows.push({ line: record.line, values });
    }
  }
  return { ok: true, columns, rows, skipped };
}
