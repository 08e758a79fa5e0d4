'use strict';
// Unit tests of launcher.js: interpreter discovery on Windows and POSIX, the
// spawn command line, versions, logging-command escaping and messages.
// Run with: node --test tests/node

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const launcher = require('../../launcher.js');

/** An isFile stub over a set of existing files (case-insensitive on Windows). */
function files(list, platform) {
  const norm = (f) => (platform === 'win32' ? f.toLowerCase() : f);
  const set = new Set(list.map(norm));
  return (file) => set.has(norm(file));
}

function find(platform, env, existing, realpath) {
  return launcher.findCandidates({
    platform,
    env,
    isFile: files(existing, platform),
    realpath: realpath || ((f) => f),
  }).candidates;
}

test('POSIX: PATH order wins over name order', () => {
  const found = find('linux', { PATH: '/opt/hostedtoolcache/Python/3.12.1/x64/bin:/usr/bin' }, [
    '/usr/bin/python3',
    '/usr/bin/python',
    '/opt/hostedtoolcache/Python/3.12.1/x64/bin/python',
  ]);
  assert.deepStrictEqual(
    found.map((c) => c.file),
    ['/opt/hostedtoolcache/Python/3.12.1/x64/bin/python', '/usr/bin/python3', '/usr/bin/python'],
  );
  assert.ok(found.every((c) => c.args.length === 0));
});

test('POSIX: python3 before python in one folder, no py launcher', () => {
  const found = find('darwin', { PATH: '/usr/local/bin' }, ['/usr/local/bin/python', '/usr/local/bin/python3', '/usr/local/bin/py']);
  assert.deepStrictEqual(found.map((c) => c.name), ['python3', 'python']);
});

test('POSIX: empty PATH entries are skipped, not taken as the current folder', () => {
  const found = find('linux', { PATH: ':/usr/bin::' }, ['python3', '/usr/bin/python3']);
  assert.deepStrictEqual(found.map((c) => c.file), ['/usr/bin/python3']);
});

test('POSIX: no PATH at all finds nothing', () => {
  assert.deepStrictEqual(find('linux', {}, ['/usr/bin/python3']), []);
});

test('the same interpreter reached twice is tried once', () => {
  const real = { '/bin/python3': '/usr/bin/python3.11', '/usr/bin/python3': '/usr/bin/python3.11' };
  const found = find('linux', { PATH: '/usr/bin:/bin:/usr/bin' }, ['/usr/bin/python3', '/bin/python3'], (f) => real[f] || f);
  assert.deepStrictEqual(found.map((c) => c.file), ['/usr/bin/python3']);
});

test('Windows: PATHEXT, python.exe of UsePythonVersion first, py -3 last', () => {
  const env = {
    Path: 'C:\\hostedtoolcache\\windows\\Python\\3.12.1\\x64;C:\\Windows;C:\\Python39',
    PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS',
  };
  const found = find('win32', env, [
    'C:\\hostedtoolcache\\windows\\Python\\3.12.1\\x64\\python.exe',
    'C:\\Windows\\py.exe',
    'C:\\Python39\\python.exe',
  ]);
  assert.deepStrictEqual(
    found.map((c) => [c.file, c.args]),
    [
      ['C:\\hostedtoolcache\\windows\\Python\\3.12.1\\x64\\python.exe', []],
      ['C:\\Windows\\py.exe', ['-3']],
      ['C:\\Python39\\python.exe', []],
    ],
  );
});

test('Windows: the Microsoft Store aliases under WindowsApps are skipped', () => {
  const env = { PATH: 'C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps;C:\\Python311\\' };
  const found = find('win32', env, [
    'C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe',
    'C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps\\python3.exe',
    'C:\\Python311\\python.exe',
  ]);
  assert.deepStrictEqual(found.map((c) => c.file), ['C:\\Python311\\python.exe']);
  assert.ok(launcher.isStoreAliasDir('c:\\users\\me\\appdata\\local\\microsoft\\windowsapps\\', 'win32'));
  assert.ok(!launcher.isStoreAliasDir('/home/me/WindowsApps', 'linux'));
});

test('Windows: PATH is found case-insensitively, quotes and blanks are dropped', () => {
  const env = { pAtH: ' "C:\\Program Files\\Python312" ;;C:\\Tools' };
  assert.deepStrictEqual(launcher.pathDirs(env, 'win32'), ['C:\\Program Files\\Python312', 'C:\\Tools']);
  const found = find('win32', env, ['C:\\Program Files\\Python312\\python.exe']);
  assert.deepStrictEqual(found.map((c) => c.file), ['C:\\Program Files\\Python312\\python.exe']);
});

test('Windows: the first PATHEXT extension that exists is the one used', () => {
  const env = { PATH: 'C:\\pyenv\\shims', PATHEXT: '.BAT;.EXE' };
  const found = find('win32', env, ['C:\\pyenv\\shims\\python.bat', 'C:\\pyenv\\shims\\python.exe']);
  assert.deepStrictEqual(found.map((c) => c.file), ['C:\\pyenv\\shims\\python.bat']);
  assert.deepStrictEqual(launcher.executableNames('python', {}, 'win32'), ['python.com', 'python.exe', 'python.bat', 'python.cmd']);
  assert.deepStrictEqual(launcher.executableNames('python', { PATHEXT: '.EXE; ;junk' }, 'win32'), ['python.exe']);
});

test('Windows: a file without a PATHEXT extension is not a candidate', () => {
  const found = find('win32', { PATH: 'C:\\bin', PATHEXT: '.EXE' }, ['C:\\bin\\python3', 'C:\\bin\\python.exe']);
  assert.deepStrictEqual(found.map((c) => c.file), ['C:\\bin\\python.exe']);
});

test('Windows: the same file in two spellings is tried once', () => {
  const found = find('win32', { PATH: 'C:\\Python312;c:\\python312\\' }, ['C:\\Python312\\python.exe'], (f) => f);
  assert.strictEqual(found.length, 1);
});

test('spawn: an .exe directly, py with -3, a .cmd shim through cmd.exe', () => {
  const exe = launcher.spawnSpec({ file: 'C:\\Python\\python.exe', args: [] }, ['-I', 'C:\\t\\bootstrap.py', 'run'], 'win32', {});
  assert.deepStrictEqual(exe, { command: 'C:\\Python\\python.exe', args: ['-I', 'C:\\t\\bootstrap.py', 'run'], windowsVerbatimArguments: false });
  const py = launcher.spawnSpec({ file: 'C:\\Windows\\py.exe', args: ['-3'] }, ['-I', 'b.py', 'cleanup'], 'win32', {});
  assert.deepStrictEqual(py.args, ['-3', '-I', 'b.py', 'cleanup']);
  const shim = launcher.spawnSpec({ file: 'C:\\My Tools\\python.cmd', args: [] }, ['-I', 'C:\\t\\bootstrap.py', 'run'], 'win32', { ComSpec: 'C:\\Windows\\system32\\cmd.exe' });
  assert.strictEqual(shim.command, 'C:\\Windows\\system32\\cmd.exe');
  assert.deepStrictEqual(shim.args, ['/d', '/s', '/c', '""C:\\My Tools\\python.cmd" "-I" "C:\\t\\bootstrap.py" "run""']);
  assert.strictEqual(shim.windowsVerbatimArguments, true);
  assert.strictEqual(launcher.spawnSpec({ file: 'C:\\100%\\python.bat', args: [] }, ['run'], 'win32', {}), null);
  const posix = launcher.spawnSpec({ file: '/usr/bin/python.cmd', args: [] }, ['run'], 'linux', {});
  assert.strictEqual(posix.command, '/usr/bin/python.cmd');
});

test('versions', () => {
  assert.deepStrictEqual(launcher.parseVersion('3.8.18'), [3, 8, 18]);
  assert.deepStrictEqual(launcher.parseVersion('3.13'), [3, 13, 0]);
  assert.strictEqual(launcher.parseVersion('Python'), null);
  assert.strictEqual(launcher.parseVersion(undefined), null);
  assert.ok(launcher.isSupported([3, 9, 0]));
  assert.ok(launcher.isSupported([3, 14, 1]));
  assert.ok(launcher.isSupported([4, 0, 0]));
  assert.ok(!launcher.isSupported([3, 8, 18]));
  assert.ok(!launcher.isSupported([2, 7, 18]));
  assert.ok(!launcher.isSupported(null));
});

test('logging commands are escaped like commands.py', () => {
  assert.strictEqual(
    launcher.formatCommand('task.logissue', { type: 'error' }, '100% done\r\n##vso[task.complete result=Succeeded;]x'),
    '##vso[task.logissue type=error;]100%AZP25 done%0D%0A##vso[task.complete result=Succeeded;]x',
  );
  assert.strictEqual(launcher.escapeProperty('a;b]c%\n'), 'a%3Bb%5Dc%AZP25%0A');
  assert.strictEqual(launcher.formatCommand('task.complete', { result: 'Failed', empty: '' }, ''), '##vso[task.complete result=Failed;]');
  const lines = launcher.failureLines('no\npython', 'run').split('\n');
  assert.deepStrictEqual(lines, ['##vso[task.logissue type=error;]no%0Apython', '##vso[task.complete result=Failed;]no%0Apython', '']);
  const cleanup = launcher.failureLines('no python', 'cleanup').split('\n');
  assert.deepStrictEqual(cleanup, ['##vso[task.logissue type=warning;]no python', '##vso[task.complete result=Succeeded;]no python', '']);
});

test('messages: task.json, overlaid by the culture of Strings/', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'task.json'), '\uFEFF' + JSON.stringify({ messages: { A: 'a %s', B: 'b %s' } }));
    const de = path.join(dir, 'Strings', 'resources.resjson', 'de-DE');
    fs.mkdirSync(de, { recursive: true });
    fs.writeFileSync(path.join(de, 'resources.resjson'), JSON.stringify({ 'loc.messages.A': 'ä %s', 'loc.friendlyName': 'x' }));
    const en = launcher.loadMessages(dir, 'en-US');
    assert.strictEqual(launcher.formatMessage(en, 'A', 1), 'a 1');
    const german = launcher.loadMessages(dir, 'de-DE');
    assert.strictEqual(launcher.formatMessage(german, 'A', 1), 'ä 1');
    assert.strictEqual(launcher.formatMessage(german, 'B', 2), 'b 2');
    assert.strictEqual(launcher.formatMessage(launcher.loadMessages(dir, 'fr-FR'), 'A', 3), 'a 3');
    assert.strictEqual(launcher.formatMessage({}, 'Missing', 'x', 'y'), 'Missing x y');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the real task.json has every message the launcher uses', () => {
  const messages = launcher.loadMessages(path.join(__dirname, '..', '..'), 'en-US');
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'launcher.js'), 'utf8');
  const used = new Set([...source.matchAll(/'((?:Error|Info|Warn)_[A-Za-z]+)'/g)].map((m) => m[1]));
  assert.ok(used.size >= 5);
  for (const key of used) {
    assert.ok(key in messages, key);
  }
});

test('the search description names every candidate and its outcome', () => {
  const messages = {
    Info_PythonCandidate: '%s is Python %s',
    Info_PythonCandidateMissing: '%s: not on PATH',
    Info_PythonCandidateUnknown: '%s did not run (%s)',
  };
  const old = { name: 'python', file: 'C:\\Python38\\python.exe', args: [] };
  const py = { name: 'py', file: 'C:\\Windows\\py.exe', args: ['-3'] };
  const outcomes = new Map([
    [old, { version: [3, 8, 10] }],
    [py, { version: null, detail: 'C:\\Windows\\py.exe: exit code 103' }],
  ]);
  assert.strictEqual(
    launcher.describeSearch('win32', [old, py], outcomes, messages),
    'python3: not on PATH; C:\\Python38\\python.exe is Python 3.8.10; C:\\Windows\\py.exe -3 did not run (C:\\Windows\\py.exe: exit code 103)',
  );
  assert.strictEqual(launcher.describeSearch('linux', [], new Map(), messages), 'python3: not on PATH; python: not on PATH');
});

test('exit descriptions', () => {
  const messages = { Info_PythonExitCode: '%s: exit code %s', Info_PythonExitSignal: '%s: signal %s' };
  const show = (detail) => launcher.formatMessage(messages, 'Error_X', detail);
  assert.strictEqual(show(launcher.describeExit('/usr/bin/python3', 3, null)), 'Error_X /usr/bin/python3: exit code 3');
  assert.strictEqual(show(launcher.describeExit('/usr/bin/python3', null, 'SIGKILL')), 'Error_X /usr/bin/python3: signal SIGKILL');
});

test('messages follow System.Culture as the task library chooses it', () => {
  const root = path.join(__dirname, '..', '..');
  const read = (culture) => JSON.parse(fs.readFileSync(path.join(root, 'Strings', 'resources.resjson', culture, 'resources.resjson'), 'utf8'));
  const task = JSON.parse(fs.readFileSync(path.join(root, 'task.json'), 'utf8'));
  const key = 'Error_PythonNotFound';
  for (const culture of ['de-DE', 'es-ES', 'fr-FR', 'it-IT', 'ja-JP', 'ko-KR', 'ru-RU', 'zh-CN', 'zh-TW']) {
    const messages = launcher.loadMessages(root, culture);
    assert.strictEqual(messages[key], read(culture)['loc.messages.' + key], culture);
    assert.deepStrictEqual(Object.keys(messages).sort(), Object.keys(task.messages).sort());
  }
  // The folder name is matched ignoring case; any other culture is English.
  assert.strictEqual(launcher.loadMessages(root, 'ZH-tw')[key], read('zh-TW')['loc.messages.' + key]);
  for (const culture of [undefined, '', 'en-US', 'de-AT', 'de', 'qps-ploc', '../de-DE']) {
    assert.strictEqual(launcher.loadMessages(root, culture)[key], task.messages[key], String(culture));
  }
});

test('a key the culture lacks is English, the others are not', () => {
  const root = path.join(__dirname, '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loc-'));
  try {
    fs.copyFileSync(path.join(root, 'task.json'), path.join(dir, 'task.json'));
    const folder = path.join(dir, 'Strings', 'resources.resjson', 'ko-KR');
    fs.mkdirSync(folder, { recursive: true });
    const korean = JSON.parse(fs.readFileSync(path.join(root, 'Strings', 'resources.resjson', 'ko-KR', 'resources.resjson'), 'utf8'));
    delete korean['loc.messages.Error_PythonFailed'];
    fs.writeFileSync(path.join(folder, 'resources.resjson'), '\uFEFF' + JSON.stringify(korean));
    const messages = launcher.loadMessages(dir, 'ko-KR');
    const task = JSON.parse(fs.readFileSync(path.join(root, 'task.json'), 'utf8'));
    assert.strictEqual(messages.Error_PythonFailed, task.messages.Error_PythonFailed);
    assert.strictEqual(messages.Error_PythonNotFound, korean['loc.messages.Error_PythonNotFound']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the pieces of the no-Python error are in the language of the sentence', () => {
  const root = path.join(__dirname, '..', '..');
  const messages = launcher.loadMessages(root, 'ru-RU');
  const py = { name: 'python3', file: '/usr/bin/python3', args: [] };
  const outcomes = new Map([[py, { version: null, detail: launcher.describeExit('/usr/bin/python3', 2, null) }]]);
  const text = launcher.describeSearch('linux', [py], outcomes, messages);
  assert.strictEqual(text, '/usr/bin/python3 не удалось запустить (/usr/bin/python3: код выхода 2); python: нет в PATH');
});
