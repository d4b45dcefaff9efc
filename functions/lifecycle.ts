import { app } from '@azure/functions';
import { startApp, stopApp } from '../shared/functions-host.js';

// The app is built when the worker starts (a failed start is retried; routes answer 503 meanwhile) and
// closed when it stops, so upstream connections and the SQL session end cleanly.
app.hook.appStart(startApp);
app.hook.appTerminate(stopApp);
