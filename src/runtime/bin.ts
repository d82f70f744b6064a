#!/usr/bin/env node
import { startRuntime } from './runtime.js'

// A container image's CMD arrives as arguments: `snapstart-runtime app.handler` names the
// handler the way Lambda's base images do, unless `_HANDLER` is already set.
const [handlerArgument] = process.argv.slice(2)
if (!process.env._HANDLER && handlerArgument) process.env._HANDLER = handlerArgument

void startRuntime()
