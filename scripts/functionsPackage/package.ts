import path from 'node:path';
import { buildFunctionsPackage } from './functionsPackage';
import { FunctionsPackageError } from './functionsPackageError';

/**
 * `npm run package:functions`: builds the function app's deployment package
 * (what azd uploads) into build/functions/: the folder app/ and its zip
 * functions.zip, whose path is the last line printed.
 *
 * Usage: package.js [--out <folder>]
 */

const projectRoot = path.resolve(__dirname, '..', '..', '..');

function parseArguments(argv: readonly string[]): { outDir: string } {
  if (argv.length === 0) return { outDir: path.join(projectRoot, 'build', 'functions') };
  if (argv.length === 2 && argv[0] === '--out' && argv[1] !== undefined) return { outDir: path.resolve(argv[1]) };
  throw new FunctionsPackageError(`unexpected arguments "${argv.join(' ')}" (usage: package.js [--out <folder>])`);
}

try {
  const { outDir } = parseArguments(process.argv.slice(2));
  const built = buildFunctionsPackage(projectRoot, outDir);
  console.log(`[package:functions] ${built.fileCount} files, ${(built.zipBytes / 1_048_576).toFixed(1)} MB zipped, unzipped in ${built.folder}`);
  console.log(built.zipPath);
} catch (error) {
  if (!(error instanceof FunctionsPackageError)) throw error;
  console.error(`[package:functions] ${error.message}`);
  process.exitCode = 1;
}
