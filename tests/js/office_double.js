/*
 * A stand-in for Excel's Office.js host, for testing the task pane in headless
 * Chromium. It implements the calls taskpane.js makes, with Office's rules:
 * properties must be load()ed and sync()ed before they are read, writes are
 * queued and applied in order at sync(), ranges written must match the data's
 * shape, a missing sheet is an ItemNotFound error.
 *
 * The workbook lives in window.__book = {name, active, sheets: [{name, cells,
 * formats, bold, frozen}]}, set by the test before the page's scripts run;
 * the test reads it back afterwards. Ribbon and custom-function associations
 * land in window.__ribbon and window.__functions.
 */
"use strict";

(function () {
  const book = () => window.__book;
  window.__ribbon = {};
  window.__functions = {};
  window.__created = [];
  const storage = {};

  class OfficeError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  function sheetIndex(name) {
    const at = book().sheets.findIndex((s) => s.name === name);
    if (at < 0) throw new OfficeError("ItemNotFound", "The requested resource doesn't exist: " + name);
    return at;
  }

  // A proxy whose properties must be loaded before reading, and whose writes are queued.
  class Proxy {
    constructor(context, loaders) {
      this._context = context;
      this._loaders = loaders; // property -> () => value, evaluated at sync
      this._loaded = {};
    }
    load(properties) {
      for (const property of String(properties).split(",")) {
        const name = property.trim().split("/")[0];
        if (!(name in this._loaders)) throw new OfficeError("InvalidArgument", "cannot load " + name);
        this._context._loads.push(() => {
          this._loaded[name] = this._loaders[name](property.trim());
        });
      }
      return this;
    }
    _get(name) {
      if (!(name in this._loaded)) {
        throw new OfficeError("PropertyNotLoaded", "The property '" + name + "' is not available. Call load() and sync() first.");
      }
      return this._loaded[name];
    }
    _queue(operation) {
      this._context._queue.push(operation);
    }
  }

  function shape(rows, columns, data, what) {
    if (!Array.isArray(data) || data.length !== rows || data.some((row) => !Array.isArray(row) || row.length !== columns)) {
      throw new OfficeError("InvalidArgument", what + ": the data's size does not match the range (" + rows + "x" + columns + ")");
    }
  }

  class Range extends Proxy {
    constructor(context, sheetName, row, column, rows, columns, usedOnly) {
      super(context, {
        values: () => (this._usedOnly && this._used().empty ? null : this._read()),
        rowIndex: () => this._used().row,
        columnIndex: () => this._used().column,
        isNullObject: () => this._used().empty,
      });
      this._sheet = sheetName;
      this._at = { row, column, rows, columns };
      this._usedOnly = usedOnly;
      // as in Office.js, an ...OrNullObject result tells isNullObject after the next sync, unasked
      if (usedOnly) context._loads.push(() => { this._loaded.isNullObject = this._used().empty; });
      const range = this;
      this.format = {
        font: new Proxy(context, {}),
        autofitColumns() {
          range._queue(() => {
            sheetIndex(range._sheet);
            book().sheets[sheetIndex(range._sheet)].autofit = true;
          });
        },
        autofitRows() {},
      };
      Object.defineProperty(this.format.font, "bold", {
        set(value) {
          range._queue(() => range._each((sheet, r, c) => {
            sheet.bold[r + "," + c] = value;
          }));
        },
      });
    }
    _used() {
      if (!this._usedOnly) return { row: this._at.row, column: this._at.column, empty: false };
      const sheet = book().sheets[sheetIndex(this._sheet)];
      let top = Infinity, left = Infinity, bottom = -1, right = -1;
      sheet.cells.forEach((row, r) => row.forEach((value, c) => {
        if (value !== "" && value !== null && value !== undefined) {
          top = Math.min(top, r); left = Math.min(left, c); bottom = Math.max(bottom, r); right = Math.max(right, c);
        }
      }));
      if (bottom < 0) return { empty: true, row: 0, column: 0, rows: 0, columns: 0 };
      return { empty: false, row: top, column: left, rows: bottom - top + 1, columns: right - left + 1 };
    }
    _read() {
      const sheet = book().sheets[sheetIndex(this._sheet)];
      const at = this._usedOnly ? this._used() : this._at;
      if (at.empty) return [];
      const out = [];
      for (let r = 0; r < at.rows; r += 1) {
        const row = [];
        for (let c = 0; c < at.columns; c += 1) {
          const value = (sheet.cells[at.row + r] || [])[at.column + c];
          row.push(value === undefined || value === null ? "" : value);
        }
        out.push(row);
      }
      return out;
    }
    _each(visit) {
      const sheet = book().sheets[sheetIndex(this._sheet)];
      for (let r = 0; r < this._at.rows; r += 1) {
        for (let c = 0; c < this._at.columns; c += 1) visit(sheet, this._at.row + r, this._at.column + c);
      }
    }
    get values() { return this._get("values"); }
    set values(data) {
      shape(this._at.rows, this._at.columns, data, "values");
      const copy = JSON.parse(JSON.stringify(data));
      this._queue(() => this._each((sheet, r, c) => {
        while (sheet.cells.length <= r) sheet.cells.push([]);
        let value = copy[r - this._at.row][c - this._at.column];
        if (typeof value === "string" && value.startsWith("'")) value = value.slice(1); // Excel keeps it as text
        else if (typeof value === "string" && value.startsWith("=")) value = { formula: value };
        sheet.cells[r][c] = value;
      }));
    }
    set numberFormat(data) {
      shape(this._at.rows, this._at.columns, data, "numberFormat");
      this._queue(() => this._each((sheet, r, c) => {
        sheet.formats[r + "," + c] = data[r - this._at.row][c - this._at.column];
      }));
    }
    get rowIndex() { return this._get("rowIndex"); }
    get columnIndex() { return this._get("columnIndex"); }
    get isNullObject() { return this._get("isNullObject"); }
  }

  class Worksheet extends Proxy {
    constructor(context, resolveName) {
      super(context, {
        name: () => resolveName(),
        position: () => sheetIndex(resolveName()),
      });
      this._name = resolveName;
      const worksheet = this;
      this.freezePanes = {
        freezeRows(count) { worksheet._queue(() => { book().sheets[sheetIndex(worksheet._name())].frozen = { rows: count, columns: 0 }; }); },
        freezeColumns(count) { worksheet._queue(() => { book().sheets[sheetIndex(worksheet._name())].frozen = { rows: 0, columns: count }; }); },
        freezeAt(range) { worksheet._queue(() => { book().sheets[sheetIndex(worksheet._name())].frozen = { rows: range._at.rows, columns: range._at.columns }; }); },
      };
    }
    get name() { return this._get("name"); }
    get position() { return this._get("position"); }
    set position(value) {
      this._queue(() => {
        const sheets = book().sheets;
        const [sheet] = sheets.splice(sheetIndex(this._name()), 1);
        sheets.splice(Math.min(value, sheets.length), 0, sheet);
      });
    }
    delete() {
      this._queue(() => {
        if (book().sheets.length === 1) throw new OfficeError("InvalidOperation", "a workbook needs one sheet");
        book().sheets.splice(sheetIndex(this._name()), 1);
        book().active = Math.min(book().active, book().sheets.length - 1);
      });
    }
    activate() {
      this._queue(() => { book().active = sheetIndex(this._name()); });
    }
    getUsedRangeOrNullObject(valuesOnly) {
      if (valuesOnly !== true) throw new OfficeError("InvalidArgument", "the pane should ask for values only");
      return new Range(this._context, this._name(), 0, 0, 0, 0, true);
    }
    getRangeByIndexes(row, column, rows, columns) {
      if (rows < 1 || columns < 1) throw new OfficeError("InvalidArgument", "an empty range");
      return new Range(this._context, this._name(), row, column, rows, columns, false);
    }
  }

  class WorksheetCollection extends Proxy {
    constructor(context) {
      super(context, {
        items: () => book().sheets.map((s) => new Worksheet(context, () => s.name)).map((w) => {
          w._loaded.name = w._name();
          return w;
        }),
      });
    }
    get items() { return this._get("items"); }
    getItem(name) {
      return new Worksheet(this._context, () => (sheetIndex(name), name));
    }
    getActiveWorksheet() {
      const name = book().sheets[book().active].name;
      return new Worksheet(this._context, () => name);
    }
    add(name) {
      this._queue(() => {
        if (book().sheets.some((s) => s.name.toLowerCase() === String(name).toLowerCase())) {
          throw new OfficeError("ItemAlreadyExists", "A sheet named " + name + " exists");
        }
        book().sheets.push({ name: name, cells: [], formats: {}, bold: {}, frozen: null });
      });
      return new Worksheet(this._context, () => name);
    }
  }

  class RequestContext {
    constructor() {
      this._queue = [];
      this._loads = [];
      const context = this;
      this.workbook = new (class extends Proxy {
        constructor() {
          super(context, { name: () => book().name });
          this.worksheets = new WorksheetCollection(context);
        }
        get name() { return this._get("name"); }
      })();
    }
    async sync() {
      await new Promise((resolve) => setTimeout(resolve, 0)); // a round trip, as in Excel
      window.__syncs = (window.__syncs || 0) + 1;
      const queue = this._queue.splice(0);
      const loads = this._loads.splice(0);
      for (const operation of queue) operation();
      for (const load of loads) load();
    }
  }

  window.Excel = {
    run: async (batch) => {
      const context = new RequestContext();
      const result = await batch(context);
      await context.sync();
      return result;
    },
    createWorkbook: async (base64) => {
      window.__created.push(base64);
    },
  };

  class CustomFunctionsError extends Error {
    constructor(code, message) {
      super(message || "");
      this.code = code;
    }
  }

  window.CustomFunctions = {
    // Excel calls a function with every declared parameter (null when left out) and then an
    // Invocation object; the tests call window.__functions[id](...declared) the same way.
    associate: (id, fn) => {
      window.__functions[id] = (...args) => fn(...args, { functionName: id, address: undefined, isInValuePreview: false });
    },
    Error: CustomFunctionsError,
    ErrorCode: {
      invalidValue: "#VALUE!", notAvailable: "#N/A", divisionByZero: "#DIV/0!", invalidNumber: "#NUM!",
      nullReference: "#NULL!", invalidName: "#NAME?", invalidReference: "#REF!",
    },
  };

  window.OfficeRuntime = {
    storage: {
      getItem: async (key) => (key in storage ? storage[key] : null),
      setItem: async (key, value) => { storage[key] = value; },
    },
  };

  window.Office = {
    context: { displayLanguage: window.__displayLanguage || "en-US" },
    actions: { associate: (name, fn) => { window.__ribbon[name] = fn; } },
    onReady: (callback) => {
      const info = { host: "Excel", platform: "OfficeOnline" };
      return new Promise((resolve) => setTimeout(() => {
        window.Office.context.displayLanguage = window.__displayLanguage || "en-US";
        if (callback) callback(info);
        resolve(info);
      }, 0));
    },
  };
})();
