// Runs policy-check's generated IAM suites (benches/peers/gen_iam_suites.py) through iam-simulate, the
// Node IAM simulator, doing what `policy-check test` does: read every suite file, decide every case, compare
// with `expect`, print a summary. For timing against `policy-check test` with farm-bench; the package is
// installed on demand by benches/peers/run.sh (never vendored, never a dependency of the project).
//
//   node benches/peers/iam-simulate-suites.mjs DIR [--disagreements]
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(join(process.env.PEER_DIR ?? process.cwd(), 'package.json'))
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const dir = process.argv[2]
const showDisagreements = process.argv.includes('--disagreements')
const answer = { Allowed: 'Allow', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' }
let pass = 0, fail = 0, errors = 0
for (const name of readdirSync(dir).filter((n) => n.endsWith('.suite.json')).sort()) {
  const suite = JSON.parse(readFileSync(join(dir, name), 'utf8'))
  const identity = [].concat(suite.identity ?? []).map((policy, i) => ({ name: `identity${i}`, policy }))
  for (const c of suite.cases) {
    const r = c.request
    const account = (r.resource.split(':')[4] || '123456789012')
    const sim = {
      identityPolicies: identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: r.principal,
        action: r.action,
        resource: { resource: r.resource, accountId: account },
        contextVariables: r.context ?? {}
      }
    }
    const out = await runSimulation(sim, {})
    if (out.resultType === 'error') {
      errors++
      if (showDisagreements) console.log(`${name} ${c.name}: error ${out.errors.message}`)
      continue
    }
    const got = answer[out.overallResult]
    if (got === c.expect) pass++
    else {
      fail++
      if (showDisagreements) console.log(`${name} ${c.name}: expect ${c.expect}, iam-simulate ${got}`)
    }
  }
}
console.log(`${pass} passed, ${fail} failed, ${errors} errors`)
process.exit(fail || errors ? 2 : 0)
