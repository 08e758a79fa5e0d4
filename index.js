'use strict';
// Main step of the task (task.json "execution").
require('./launcher').main('run');
