// policy-check's Node.js bootstrap for a local Lambda execution environment: it loads the handler named by
// `_HANDLER` (`file.function`, resolved in `LAMBDA_TASK_ROOT`: file.js, file.mjs or file.cjs) and serves
// invocations through the Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API`, as the documented protocol says
// ("Using the Lambda runtime API for custom runtimes"): GET .../invocation/next, then POST
// .../invocation/{id}/response or .../invocation/{id}/error; POST .../init/error when the handler cannot
// be loaded. Written for policy-check from that documentation. Handlers may be async, return a promise,
// or take a callback (event, context, callback).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const [host, port] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API || '';
  const i = api.lastIndexOf(':');
  return [api.slice(0, i), Number(api.slice(i + 1))];
})();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: BASE + p, method, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorBody(e) {
  if (e instanceof Error) {
    return {
      errorType: e.name || 'Error',
      errorMessage: e.message,
      trace: typeof e.stack === 'string' ? e.stack.split('\n') : [],
    };
  }
  // `callback("Unauthorized")` and `throw "x"`: the value is the message.
  return { errorType: typeof e, errorMessage: String(e), trace: [] };
}

function named(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

async function load() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const h = process.env._HANDLER || '';
  const dot = h.lastIndexOf('.');
  if (dot <= 0) throw named('Runtime.MalformedHandlerName', `Bad handler ${h}`);
  const moduleName = h.slice(0, dot);
  const fn = h.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs']
    .map((x) => path.resolve(root, moduleName + x))
    .find((f) => fs.existsSync(f));
  if (!file) throw named('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw named('Runtime.UserCodeSyntaxError', String(e && e.stack ? e.stack : e));
  }
  const f = mod[fn] !== undefined ? mod[fn] : mod.default && mod.default[fn];
  if (typeof f !== 'function') throw named('Runtime.HandlerNotFound', `${h} is undefined or not exported`);
  return f;
}

function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(value);
    };
    let r;
    try {
      r = handler.length >= 3 ? handler(event, context, finish) : handler(event, context);
    } catch (e) {
      finish(e);
      return;
    }
    if (r && typeof r.then === 'function') {
      r.then((v) => finish(null, v), (e) => finish(e === undefined || e === null ? new Error('Rejected') : e));
    } else if (handler.length < 3) {
      finish(null, r);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await load();
  } catch (e) {
    const b = errorBody(e);
    await call('POST', '/init/error', JSON.stringify(b), {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Function-Error-Type': b.errorType,
    });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: id,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let body;
    try {
      const event = JSON.parse(next.body);
      const result = await run(handler, event, context);
      body = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const b = errorBody(e);
      await call('POST', `/invocation/${id}/error`, JSON.stringify(b), {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-Error-Type': b.errorType,
      });
      continue;
    }
    await call('POST', `/invocation/${id}/response`, body, { 'Content-Type': 'application/json' });
  }
}

main().catch((e) => {
  console.error('bootstrap failed:', e);
  process.exit(1);
});
