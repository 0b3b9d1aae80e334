import { auditServer } from 'graphql-http';
const url = process.argv[2];
const results = await auditServer({ url });
const out = results.map(r => ({ status: r.status, name: r.name, reason: r.reason }));
console.log(JSON.stringify(out.filter(r => r.status !== 'ok'), null, 1));
console.error(`ok=${out.filter(r=>r.status==='ok').length} warn=${out.filter(r=>r.status==='warn').length} error=${out.filter(r=>r.status==='error').length}`);
