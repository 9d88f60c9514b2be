#!/usr/bin/env node
// The CLI is built to dist/; this shim exists before the first build, so installs can link the bin.
import '../dist/bin.js';
