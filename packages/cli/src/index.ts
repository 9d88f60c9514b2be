export { type CliConfig, defineConfig } from './config/loadConfig.js';
export type { CliIO } from './output/Output.js';
export { run } from './run.js';
