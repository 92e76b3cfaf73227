#!/usr/bin/env node
// The `smpp` command: runs the TypeScript entry point through tsx's loader,
// so the workspace needs no build step before `npx smpp` or `npm start`.
import { register } from "tsx/esm/api"

register()
await import("../src/main.ts")
