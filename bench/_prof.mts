import { loadConfigFile } from '/work/main/src/config/load.js';
const t00 = Date.now();
const { buildApp } = await import('/work/main/src/infra/app.js');
const { Template } = await import('/work/main/node_modules/aws-cdk-lib/assertions/index.js');
console.log('import', Date.now()-t00);
const config = await loadConfigFile('examples/organization.yaml');
for (let i=0;i<2;i++){
let t0 = Date.now();
const { app, rootStack } = buildApp(config, { outdir: '/tmp/prof-out'+i });
console.log('build', Date.now()-t0); t0=Date.now();
app.synth(); console.log('synth', Date.now()-t0); t0=Date.now();
Template.fromStack(rootStack); console.log('template', Date.now()-t0);
}
