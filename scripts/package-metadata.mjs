// Sets the metadata every published package needs (license, repository with directory, homepage, bugs, keywords,
// files with LICENSE and README) and copies the root LICENSE into each package. Run after adding a package:
//   node scripts/package-metadata.mjs
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = 'https://github.com/krishnesh-mishra/polymongo';
const KEYWORDS = {
  common: ['mongodb', 'multi-tenant', 'multitenancy', 'saas', 'tenant', 'connection-pool', 'polymongo'],
  '@polymongo/mongoose': ['mongoose', 'usedb'],
  '@polymongo/express': ['express', 'middleware'],
  '@polymongo/fastify': ['fastify', 'fastify-plugin'],
  '@polymongo/nestjs': ['nestjs', 'nest'],
  '@polymongo/observability': ['prometheus', 'metrics', 'health-check', 'dashboard'],
  '@polymongo/testkit': ['testing', 'mongodb-memory-server', 'wire-protocol'],
  '@polymongo/fleet': ['migrations', 'indexes', 'schema'],
  '@polymongo/cli': ['cli', 'migrations'],
};

for (const dir of readdirSync('packages')) {
  const file = join('packages', dir, 'package.json');
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    continue;
  }
  const ordered = {};
  for (const key of ['name', 'version', 'description']) if (key in pkg) ordered[key] = pkg[key];
  ordered.keywords = [...new Set([...KEYWORDS.common, ...(KEYWORDS[pkg.name] ?? [])])];
  ordered.homepage = `${REPO}/tree/main/packages/${dir}#readme`;
  ordered.bugs = { url: `${REPO}/issues` };
  ordered.repository = { type: 'git', url: `git+${REPO}.git`, directory: `packages/${dir}` };
  ordered.license = 'MIT';
  for (const [key, value] of Object.entries(pkg)) if (!(key in ordered)) ordered[key] = value;
  ordered.files = [...new Set([...(pkg.files ?? ['dist']), 'LICENSE', 'README.md'])];
  writeFileSync(file, `${JSON.stringify(ordered, null, 2)}\n`);
  copyFileSync('LICENSE', join('packages', dir, 'LICENSE'));
}
