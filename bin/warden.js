#!/usr/bin/env node
// Warden runs its TypeScript sources directly through tsx's loader: no build step for the back end.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
