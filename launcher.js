'use strict';
// Starts the Python side of the task: finds a Python >= 3.9 on PATH and runs
// bootstrap.py with it, once, with the agent's environment and stdio.
// Plain Node (16 or later), no dependencies. The pure functions are exported
// for the unit tests in tests/node.

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const util = require('util');

// bootstrap.py exits with this code, printing nothing, on a Python older than 3.9.
const TOO_OLD_EXIT = 87;
const MIN_VERSION = [3, 9];
const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD';
// A detail for Info_PythonCandidateUnknown: a message key and its arguments, or a code (ENOENT).
const UNUSABLE_FOR_CMD = { key: 'Info_PythonUnusableForCmd', args: [] };
const VERSION_CODE = 'import sys; sys.stdout.write("%d.%d.%d" % tuple(sys.version_info[:3]))';

/** The interpreter names to look for, in the order they are tried in each PATH folder. */
function candidateNames(platform) {
  const names = [
    { name: 'python3', args: [] },
    { name: 'python', args: [] },
  ];
  if (platform === 'win32') {
    names.push({ name: 'py', args: ['-3'] });
  }
  return names;
}

/** An environment variable, case-insensitively on Windows as the OS does. */
function getEnv(env, name, platform) {
  if (platform !== 'win32') {
    return env[name];
  }
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/** The folders of PATH in order, without empty entries or surrounding quotes. */
function pathDirs(env, platform) {
  const value = getEnv(env, 'PATH', platform) || '';
  const delimiter = platform === 'win32' ? ';' : ':';
  return value
    .split(delimiter)
    .map((dir) => (platform === 'win32' ? dir.trim().replace(/^"(.*)"$/, '$1') : dir))
    .filter((dir) => dir !== '');
}

/** File names a command name may have: PATHEXT on Windows, the bare name elsewhere. */
function executableNames(name, env, platform) {
  if (platform !== 'win32') {
    return [name];
  }
  const exts = (getEnv(env, 'PATHEXT', platform) || DEFAULT_PATHEXT)
    .split(';')
    .map((ext) => ext.trim())
    .filter((ext) => ext.startsWith('.'));
  return exts.map((ext) => name + ext.toLowerCase());
}

/**
 * The Microsoft Store's app execution aliases (%LOCALAPPDATA%\Microsoft\WindowsApps)
 * open the Store instead of running Python when Python is not installed from it.
 */
function isStoreAliasDir(dir, platform) {
  return platform === 'win32' && dir.split(/[\\/]+/).some((part) => part.toLowerCase() === 'windowsapps');
}

function isFileDefault(file, platform) {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch (err) {
    return false;
  }
}

function realpathDefault(file) {
  try {
    return fs.realpathSync(file);
  } catch (err) {
    return file;
  }
}

/**
 * Every interpreter on PATH that may be a Python 3, in the order to try them:
 * PATH order first, then python3, python (and on Windows py -3) within a folder,
 * so that the folder a UsePythonVersion step puts first wins. The same file
 * reached twice (through links or repeated PATH entries) is listed once.
 *
 * Returns { candidates: [{ name, file, args }], dirs }.
 */
function findCandidates(options) {
  const opts = options || {};
  const platform = opts.platform || process.platform;
  const env = opts.env || process.env;
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  const isFile = opts.isFile || ((file) => isFileDefault(file, platform));
  const realpath = opts.realpath || realpathDefault;
  const dirs = pathDirs(env, platform);
  const seen = new Set();
  const candidates = [];
  for (const dir of dirs) {
    if (isStoreAliasDir(dir, platform)) {
      continue;
    }
    for (const { name, args } of candidateNames(platform)) {
      for (const fileName of executableNames(name, env, platform)) {
        const file = pathApi.join(dir, fileName);
        if (!isFile(file)) {
          continue;
        }
        const real = realpath(file);
        const key = platform === 'win32' ? real.toLowerCase() : real;
        if (!seen.has(key)) {
          seen.add(key);
          candidates.push({ name, file, args });
        }
        break; // the first PATHEXT match is what the shell would run
      }
    }
  }
  return { candidates, dirs };
}

/** Quote one argument for cmd.exe (paths cannot contain '"'). */
function cmdQuote(arg) {
  return '"' + arg + '"';
}

/**
 * How to spawn a candidate with the given arguments. Windows can start a .bat
 * or .cmd (e.g. a pyenv-win shim) only through cmd.exe; such a path must not
 * hold characters cmd.exe would expand.
 */
function spawnSpec(candidate, args, platform, env) {
  const all = candidate.args.concat(args);
  const ext = path.win32.extname(candidate.file).toLowerCase();
  if (platform === 'win32' && (ext === '.bat' || ext === '.cmd')) {
    const parts = [candidate.file].concat(all);
    if (parts.some((part) => /["%^!\r\n]/.test(part))) {
      return null;
    }
    const comspec = getEnv(env, 'ComSpec', platform) || 'cmd.exe';
    return {
      command: comspec,
      args: ['/d', '/s', '/c', '"' + parts.map(cmdQuote).join(' ') + '"'],
      windowsVerbatimArguments: true,
    };
  }
  return { command: candidate.file, args: all, windowsVerbatimArguments: false };
}

/** "3.8.18" -> [3, 8, 18]; null when it is not a version. */
function parseVersion(text) {
  const match = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(text || '');
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] || 0)] : null;
}

function isSupported(version) {
  return version !== null && (version[0] > MIN_VERSION[0] || (version[0] === MIN_VERSION[0] && version[1] >= MIN_VERSION[1]));
}

function escapeMessage(text) {
  return String(text).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text) {
  return escapeMessage(text).replace(/]/g, '%5D').replace(/;/g, '%3B');
}

/** A logging command line, escaped like twineauthenticate/commands.py. */
function formatCommand(command, properties, message) {
  let line = '##vso[' + command;
  const props = Object.entries(properties || {}).filter(([, value]) => value);
  if (props.length > 0) {
    line += ' ' + props.map(([key, value]) => key + '=' + escapeProperty(value) + ';').join('');
  }
  return line + ']' + escapeMessage(message || '');
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    return null;
  }
}

/**
 * The resources.resjson of a culture, as the task library finds it: the folder of
 * Strings/resources.resjson whose name is the culture ignoring case; null when none.
 */
function cultureFile(taskDir, culture) {
  const folder = path.join(taskDir, 'Strings', 'resources.resjson');
  let names = [];
  try {
    names = fs.readdirSync(folder).sort();
  } catch (err) {
    return null;
  }
  const wanted = (culture || 'en-US').toUpperCase();
  const name = names.find((n) => n.toUpperCase() === wanted);
  return name === undefined ? null : path.join(folder, name, 'resources.resjson');
}

/**
 * The messages of task.json in the culture (System.Culture, en-US when unset), like
 * twineauthenticate/_messages.py: each key from the culture's file when it has it,
 * else the English of task.json (so a culture the task does not ship is English).
 */
function loadMessages(taskDir, culture) {
  const task = readJson(path.join(taskDir, 'task.json'));
  const messages = {};
  for (const [key, value] of Object.entries((task && task.messages) || {})) {
    messages[key] = String(value);
  }
  const file = cultureFile(taskDir, culture);
  const strings = file === null ? null : readJson(file);
  if (strings && typeof strings === 'object') {
    for (const key of Object.keys(messages)) {
      const value = strings['loc.messages.' + key];
      if (typeof value === 'string') {
        messages[key] = value;
      }
    }
  }
  return messages;
}

/** An argument: a { key, args } piece of a sentence is localized first. */
function formatArg(messages, arg) {
  if (arg !== null && typeof arg === 'object' && typeof arg.key === 'string') {
    return formatMessage(messages, arg.key, ...(arg.args || []));
  }
  return arg;
}

function formatMessage(messages, key, ...args) {
  const values = args.map((arg) => formatArg(messages, arg));
  const template = messages[key];
  return template === undefined ? [key].concat(values).join(' ') : util.format(template, ...values);
}

/**
 * The two lines that report a launcher failure: an error and the failed result
 * for the main step. The post-job step only warns (as the task's own cleanup
 * does): the main step has already failed for the same reason, and the agent
 * empties Agent.TempDirectory at the end of the job anyway.
 */
function failureLines(message, mode) {
  const cleanup = mode === 'cleanup';
  return (
    formatCommand('task.logissue', { type: cleanup ? 'warning' : 'error' }, message) +
    '\n' +
    formatCommand('task.complete', { result: cleanup ? 'Succeeded' : 'Failed' }, message) +
    '\n'
  );
}

/** What was searched, for Error_PythonNotFound: each candidate and what became of it. */
function describeSearch(platform, candidates, outcomes, messages) {
  const parts = [];
  for (const { name, args } of candidateNames(platform)) {
    const label = [name].concat(args).join(' ');
    const found = candidates.filter((c) => c.name === name);
    if (found.length === 0) {
      parts.push(formatMessage(messages, 'Info_PythonCandidateMissing', label));
      continue;
    }
    for (const candidate of found) {
      const shown = [candidate.file].concat(candidate.args).join(' ');
      const outcome = outcomes.get(candidate) || {};
      if (outcome.version) {
        parts.push(formatMessage(messages, 'Info_PythonCandidate', shown, outcome.version.join('.')));
      } else {
        parts.push(formatMessage(messages, 'Info_PythonCandidateUnknown', shown, outcome.detail || '?'));
      }
    }
  }
  return parts.join('; ');
}

/** How a child process ended, for Error_PythonFailed: a piece of a sentence to localize. */
function describeExit(file, code, signal) {
  return signal ? { key: 'Info_PythonExitSignal', args: [file, signal] } : { key: 'Info_PythonExitCode', args: [file, code] };
}

/** Ask an interpreter for its version (only on the failure path). */
function queryVersion(candidate, platform, env) {
  const spec = spawnSpec(candidate, ['-c', VERSION_CODE], platform, env);
  if (spec === null) {
    return { version: null, detail: UNUSABLE_FOR_CMD };
  }
  const result = childProcess.spawnSync(spec.command, spec.args, {
    env,
    encoding: 'utf8',
    timeout: 30000,
    windowsHide: true,
    windowsVerbatimArguments: spec.windowsVerbatimArguments,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) {
    return { version: null, detail: result.error.code || result.error.message };
  }
  const version = result.status === 0 ? parseVersion(result.stdout) : null;
  return version ? { version, detail: '' } : { version: null, detail: describeExit(candidate.file, result.status, result.signal) };
}

/**
 * Run the task in `mode` ('run' or 'cleanup'). The Node process exits 0 whenever
 * the result was reported (by the task or here), so the agent shows one failure,
 * not a second one for the exit code.
 */
function main(mode) {
  const platform = process.platform;
  const env = process.env;
  const taskDir = __dirname;
  const bootstrap = path.join(taskDir, 'bootstrap.py');
  const { candidates } = findCandidates({ platform, env });
  const outcomes = new Map();
  let messages = null;
  let child = null;

  const getMessages = () => {
    if (messages === null) {
      messages = loadMessages(taskDir, getEnv(env, 'SYSTEM_CULTURE', platform));
    }
    return messages;
  };
  const loc = (key, ...args) => formatMessage(getMessages(), key, ...args);
  const fail = (message) => process.stdout.write(failureLines(message, mode));
  const forward = (signal) => {
    if (child !== null) {
      child.kill(signal);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => forward(signal));
  }

  const tryCandidate = (index) => {
    if (index >= candidates.length) {
      fail(loc('Error_PythonNotFound', describeSearch(platform, candidates, outcomes, getMessages())));
      return;
    }
    const candidate = candidates[index];
    const next = () => tryCandidate(index + 1);
    // -I: no PYTHON* variables, user site or script folder on sys.path; -S: no site import
    // (its .pth files cost more than the whole task). bootstrap.py sets sys.path itself.
    const spec = spawnSpec(candidate, ['-I', '-S', bootstrap, mode], platform, env);
    if (spec === null) {
      outcomes.set(candidate, { version: null, detail: UNUSABLE_FOR_CMD });
      next();
      return;
    }
    let settled = false;
    child = childProcess.spawn(spec.command, spec.args, {
      stdio: 'inherit',
      windowsHide: true,
      windowsVerbatimArguments: spec.windowsVerbatimArguments,
    });
    child.on('error', (err) => {
      if (settled) {
        return;
      }
      settled = true;
      child = null;
      outcomes.set(candidate, { version: null, detail: err.code || err.message });
      next();
    });
    child.on('exit', (code, signal) => {
      if (settled) {
        return;
      }
      settled = true;
      child = null;
      if (signal === null && code === 0) {
        return; // the task reported its result itself (bootstrap.py exits 0 once it has)
      }
      if (signal === null) {
        // Exit 87 is the bootstrap's "too old"; an older Python may also refuse
        // -I or the bootstrap's syntax, and a broken interpreter (a shim of a version
        // that is not installed) fails before running anything. Then try the next.
        const probe = queryVersion(candidate, platform, env);
        outcomes.set(candidate, probe);
        if (code === TOO_OLD_EXIT || probe.version === null || !isSupported(probe.version)) {
          next();
          return;
        }
      }
      fail(loc('Error_PythonFailed', describeExit(candidate.file, code, signal)));
    });
  };
  tryCandidate(0);
}

module.exports = {
  TOO_OLD_EXIT,
  candidateNames,
  pathDirs,
  executableNames,
  isStoreAliasDir,
  findCandidates,
  spawnSpec,
  parseVersion,
  isSupported,
  escapeMessage,
  escapeProperty,
  formatCommand,
  cultureFile,
  loadMessages,
  formatMessage,
  failureLines,
  describeSearch,
  describeExit,
  main,
};
