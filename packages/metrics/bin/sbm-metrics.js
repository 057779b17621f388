#!/usr/bin/env node
// The sbm-metrics command: a committed entry point (so that pnpm can link it before the first build).
import '../dist/cli/main.js';
