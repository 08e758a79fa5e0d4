'use strict';
// Post-job step of the task (task.json "postjobexecution"): removes the credentials file.
require('./launcher').main('cleanup');
