/*
 * kpi_xl's Office.js add-in: task pane, ribbon buttons and custom functions,
 * all in one shared runtime. Nothing is computed here: the workbook's values
 * go to kpi-xl serve (docs/addin-protocol.md), and what comes back is applied.
 */
"use strict";

(function () {
  const ADDIN_VERSION = "0.1.0";
  const KEY_NAME = "kpi_xl.accessKey";
  const ROWS_PER_WRITE = 5000; // large sheets are written in slices, within Office's request limits
  const SHOWN_PROBLEMS = 200;

  // The custom functions of /functions.json, each with its number of parameters (a test keeps
  // this table equal to /functions.json). They are associated when this script loads, before
  // anything is awaited, as Office requires: an association made later fails the first call.
  const FUNCTIONS = {
    KPI_ATTAINMENT: 3, KPI_SCORE: 7, KPI_TOTAL: 2, KPI_TIER: 4, KPI_PAYOUT: 8, KPI_SCORECARD: 6,
  };
  const ACTION_NAMES = ["check", "score", "whatif", "new_template"];

  const TEXT = {
    en: {
      tagline: "KPI scorecards and bonuses",
      check: "Check", checkHint: "List every problem with its cell",
      score: "Score", scoreHint: "Write Results, Payouts and Departments",
      new_template: "New template", newTemplateHint: "A new, empty KPI workbook",
      whatif: "What-if", whatifHint: "Every scenario of the Scenarios sheet, side by side",
      ready: "Ready.", problems: "Problems",
      keyTitle: "Access key",
      keyHelp: "This server needs its access key. Ask whoever runs kpi-xl serve.",
      keySave: "Save", keySaved: "Access key saved. Press the button again.", keyPlaceholder: "Paste the access key",
      connecting: "Connecting…", connected: "Connected to kpi_xl {version}",
      offline: "The kpi_xl server cannot be reached. Is kpi-xl serve running?",
      functionsHelp: "KPI functions",
      reading: "Reading the workbook…", working: "{label}: working…", writing: "Writing the results…",
      badAnswer: "The kpi_xl server gave an answer this pane does not understand (HTTP {status}).",
      unknownAction: "The server asked for '{func}', which this pane does not know: update the add-in.",
      excelError: "Excel could not do that: {message}",
      more: "… and {count} more on the Problems sheet.",
    },
    zh: {
      tagline: "KPI 考核与绩效奖金",
      check: "检查", checkHint: "列出每个问题及其单元格",
      score: "计分", scoreHint: "写入结果、奖金和部门工作表",
      new_template: "新建模板", newTemplateHint: "一个新的空白 KPI 工作簿",
      whatif: "情景分析", whatifHint: "逐一测算“情景”表中的每个情景并并列对比",
      ready: "就绪。", problems: "问题",
      keyTitle: "访问密钥",
      keyHelp: "此服务器需要访问密钥，请向运行 kpi-xl serve 的同事索取。",
      keySave: "保存", keySaved: "访问密钥已保存，请再按一次按钮。", keyPlaceholder: "粘贴访问密钥",
      connecting: "正在连接…", connected: "已连接 kpi_xl {version}",
      offline: "无法连接 kpi_xl 服务器。kpi-xl serve 是否在运行？",
      functionsHelp: "KPI 函数",
      reading: "正在读取工作簿…", working: "{label}：处理中…", writing: "正在写入结果…",
      badAnswer: "kpi_xl 服务器的回复无法识别（HTTP {status}）。",
      unknownAction: "服务器要求执行“{func}”，此窗格不认识：请更新加载项。",
      excelError: "Excel 无法完成此操作：{message}",
      more: "…… 另有 {count} 个问题，见“问题”工作表。",
    },
  };

  const ERROR_CODES = {
    "#VALUE!": "invalidValue",
    "#N/A": "notAvailable",
    "#DIV/0!": "divisionByZero",
    "#NUM!": "invalidNumber",
    "#NULL!": "nullReference",
    "#NAME?": "invalidName",
    "#REF!": "invalidReference",
  };

  let language = "en";
  let busy = false;

  // ---------------------------------------------------------------- words

  function text(key, values) {
    const template = (TEXT[language] && TEXT[language][key]) || TEXT.en[key] || key;
    return template.replace(/\{(\w+)\}/g, (_, name) => (values && name in values ? String(values[name]) : ""));
  }

  function languageOf(displayLanguage) {
    return String(displayLanguage || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  function translatePage() {
    document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
    for (const element of document.querySelectorAll("[data-text]")) {
      element.textContent = text(element.dataset.text);
    }
    for (const element of document.querySelectorAll("[data-placeholder]")) {
      element.placeholder = text(element.dataset.placeholder);
    }
  }

  // ---------------------------------------------------------------- the access key

  async function loadKey() {
    if (window.OfficeRuntime && OfficeRuntime.storage) return (await OfficeRuntime.storage.getItem(KEY_NAME)) || "";
    return window.localStorage.getItem(KEY_NAME) || "";
  }

  async function saveKey(value) {
    if (window.OfficeRuntime && OfficeRuntime.storage) await OfficeRuntime.storage.setItem(KEY_NAME, value);
    else window.localStorage.setItem(KEY_NAME, value);
  }

  function showKeyForm(visible) {
    const section = document.getElementById("access-key");
    if (section) section.hidden = !visible;
  }

  // ---------------------------------------------------------------- the server

  class ServerError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function callServer(path, body) {
    const headers = { "Content-Type": "application/json" };
    const key = await loadKey();
    if (key) headers.Authorization = "Bearer " + key;
    let response;
    try {
      response = await fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) });
    } catch (failure) {
      throw new ServerError(text("offline"), 0, "offline");
    }
    let answer;
    try {
      answer = await response.json();
    } catch (failure) {
      throw new ServerError(text("badAnswer", { status: response.status }), response.status, "bad_answer");
    }
    if (!response.ok) {
      if (response.status === 401) showKeyForm(true);
      const message = answer && typeof answer.message === "string" ? answer.message : text("badAnswer", { status: response.status });
      throw new ServerError(message, response.status, answer && answer.error);
    }
    return answer;
  }

  async function checkConnection() {
    const state = document.getElementById("server-state");
    try {
      const answer = await (await fetch("/api/health")).json();
      state.textContent = text("connected", { version: answer.version });
    } catch (failure) {
      state.textContent = text("offline");
    }
  }

  // ---------------------------------------------------------------- custom functions

  function cellOut(cell) {
    if (cell && typeof cell === "object" && typeof cell.error === "string") {
      const code = CustomFunctions.ErrorCode[ERROR_CODES[cell.error] || "invalidValue"];
      return new CustomFunctions.Error(code, String(cell.message || "").slice(0, 255));
    }
    return cell;
  }

  // Excel passes every declared parameter (null when left out) and then an Invocation object,
  // which is not an argument: exactly the declared parameters go to the server.
  function declaredArguments(passed, count) {
    return Array.from({ length: count }, (_, i) => (passed[i] === undefined ? null : passed[i]));
  }

  function customFunction(id, count) {
    return async function () {
      const args = declaredArguments(arguments, count);
      let answer;
      try {
        answer = await callServer("/api/functions/" + id, { args: args });
      } catch (failure) {
        const code = failure.status === 422 ? "invalidValue" : "notAvailable";
        throw new CustomFunctions.Error(CustomFunctions.ErrorCode[code], String(failure.message).slice(0, 255));
      }
      return answer.result.map((row) => row.map(cellOut));
    };
  }

  function registerFunctions() {
    if (!window.CustomFunctions || !CustomFunctions.associate) return;
    for (const [id, count] of Object.entries(FUNCTIONS)) CustomFunctions.associate(id, customFunction(id, count));
  }

  // ---------------------------------------------------------------- reading the workbook

  function valuesFromA1(range) {
    if (range.isNullObject) return [[""]];
    const width = range.columnIndex + (range.values[0] ? range.values[0].length : 0);
    const blankRow = () => new Array(width).fill("");
    const rows = [];
    for (let r = 0; r < range.rowIndex; r += 1) rows.push(blankRow());
    for (const row of range.values) rows.push(new Array(range.columnIndex).fill("").concat(row));
    return rows.length ? rows : [[""]];
  }

  async function readBook() {
    return Excel.run(async (context) => {
      const workbook = context.workbook;
      workbook.load("name");
      const sheets = workbook.worksheets;
      sheets.load("items/name");
      const active = sheets.getActiveWorksheet();
      active.load("position");
      await context.sync();
      const used = sheets.items.map((sheet) => {
        const range = sheet.getUsedRangeOrNullObject(true);
        range.load("values,rowIndex,columnIndex");
        return range;
      });
      await context.sync();
      return {
        client: "Office.js",
        version: ADDIN_VERSION,
        language: language,
        book: { name: workbook.name, active_sheet_index: active.position, selection: "A1" },
        names: [],
        sheets: sheets.items.map((sheet, i) => ({ name: sheet.name, values: valuesFromA1(used[i]) })),
      };
    });
  }

  // ---------------------------------------------------------------- applying the answer

  function rangeOf(context, action, names) {
    const sheet = context.workbook.worksheets.getItem(names[action.sheet_position]);
    return sheet.getRangeByIndexes(action.start_row, action.start_column, action.row_count, action.column_count);
  }

  function grid(rows, columns, value) {
    return Array.from({ length: rows }, () => new Array(columns).fill(value));
  }

  const APPLY = {
    deleteSheet: async (context, action, names) => {
      const at = names.indexOf(action.args[0]);
      if (at < 0) return;
      context.workbook.worksheets.getItem(action.args[0]).delete();
      names.splice(at, 1);
      await context.sync();
    },
    addSheet: async (context, action, names) => {
      const position = action.args[0];
      const name = action.args[1];
      const sheet = context.workbook.worksheets.add(name);
      sheet.position = position;
      names.splice(position, 0, name);
      await context.sync();
    },
    setValues: async (context, action, names) => {
      const sheet = context.workbook.worksheets.getItem(names[action.sheet_position]);
      for (let first = 0; first < action.row_count; first += ROWS_PER_WRITE) {
        const slice = action.values.slice(first, first + ROWS_PER_WRITE);
        sheet.getRangeByIndexes(action.start_row + first, action.start_column, slice.length, action.column_count).values = slice;
        await context.sync();
      }
    },
    setNumberFormat: async (context, action, names) => {
      rangeOf(context, action, names).numberFormat = grid(action.row_count, action.column_count, action.args[0]);
    },
    setFontProperty: async (context, action, names) => {
      rangeOf(context, action, names).format.font[action.args[0]] = action.args[1];
    },
    freezePaneAtRange: async (context, action, names) => {
      const sheet = context.workbook.worksheets.getItem(names[action.sheet_position]);
      const rows = action.start_row;
      const columns = action.start_column;
      if (rows > 0 && columns > 0) sheet.freezePanes.freezeAt(sheet.getRangeByIndexes(0, 0, rows, columns));
      else if (rows > 0) sheet.freezePanes.freezeRows(rows);
      else if (columns > 0) sheet.freezePanes.freezeColumns(columns);
    },
    setAutofit: async (context, action, names) => {
      const range = rangeOf(context, action, names);
      if (action.args[0] === "rows") range.format.autofitRows();
      else range.format.autofitColumns();
    },
    activateSheet: async (context, action, names) => {
      context.workbook.worksheets.getItem(names[action.args[0]]).activate();
    },
    createWorkbook: async (context, action) => {
      await Excel.createWorkbook(action.args[0]);
    },
  };

  async function applyActions(actions) {
    for (const action of actions) {
      if (!Object.prototype.hasOwnProperty.call(APPLY, action.func)) {
        throw new ServerError(text("unknownAction", { func: action.func }), 0, "unknown_action");
      }
    }
    if (!actions.length) return;
    await Excel.run(async (context) => {
      const sheets = context.workbook.worksheets;
      sheets.load("items/name");
      await context.sync();
      const names = sheets.items.map((sheet) => sheet.name);
      for (const action of actions) await APPLY[action.func](context, action, names);
      await context.sync();
    });
  }

  // ---------------------------------------------------------------- the pane

  function setStatus(message, state) {
    const status = document.getElementById("status");
    if (!status) return;
    status.className = "status" + (state ? " " + state : "");
    document.getElementById("status-text").textContent = message;
  }

  function setBusy(on) {
    busy = on;
    for (const button of document.querySelectorAll("button.action")) button.disabled = on;
  }

  function showProblems(problems) {
    const section = document.getElementById("problems");
    const list = document.getElementById("problem-list");
    if (!section || !list) return;
    list.textContent = "";
    for (const problem of problems.slice(0, SHOWN_PROBLEMS)) {
      const item = document.createElement("li");
      item.className = problem.severity === "warning" ? "warning" : "error";
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = problem.cell ? problem.sheet + "!" + problem.cell : problem.sheet || "";
      item.appendChild(where);
      item.appendChild(document.createTextNode(problem.message));
      list.appendChild(item);
    }
    if (problems.length > SHOWN_PROBLEMS) {
      const item = document.createElement("li");
      item.textContent = text("more", { count: problems.length - SHOWN_PROBLEMS });
      list.appendChild(item);
    }
    section.hidden = problems.length === 0;
  }

  function readable(failure) {
    if (failure instanceof ServerError) return failure.message;
    const message = failure && failure.message ? failure.message : String(failure);
    return text("excelError", { message: message });
  }

  async function runAction(name) {
    if (busy) return;
    setBusy(true);
    try {
      setStatus(text("reading"), "busy");
      const payload = await readBook();
      setStatus(text("working", { label: text(name) }), "busy");
      const answer = await callServer("/api/actions/" + name, payload);
      setStatus(text("writing"), "busy");
      await applyActions(answer.actions || []);
      showProblems(answer.problems || []);
      setStatus(answer.status, answer.ok ? "ok" : "failed");
    } catch (failure) {
      setStatus(readable(failure), "failed");
    } finally {
      setBusy(false);
    }
  }

  function wirePane() {
    translatePage();
    for (const button of document.querySelectorAll("button.action")) {
      button.addEventListener("click", () => runAction(button.dataset.action));
    }
    const form = document.getElementById("key-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = document.getElementById("key-input");
      await saveKey(input.value.trim());
      input.value = "";
      showKeyForm(false);
      setStatus(text("keySaved"), "ok");
    });
    checkConnection();
  }

  function registerRibbonButtons() {
    if (!window.Office || !Office.actions || !Office.actions.associate) return;
    for (const name of ACTION_NAMES) {
      Office.actions.associate(name, async (event) => {
        await runAction(name);
        event.completed();
      });
    }
  }

  // ---------------------------------------------------------------- start

  registerFunctions();
  registerRibbonButtons();
  Office.onReady(() => {
    language = languageOf(Office.context && Office.context.displayLanguage);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wirePane);
    else wirePane();
  });

  window.kpiXl = { runAction: runAction, readBook: readBook, applyActions: applyActions, languageOf: languageOf };
})();
