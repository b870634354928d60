/** The release-info file of a staged release (src/domain/release-info.ts), read back. */
import * as fs from 'node:fs';
import type { DeploymentKey } from '../../domain/deployment';
import { releaseInfoFile, releaseInfoSchema, type ReleaseInfo } from '../../domain/release-info';
import type { Layout } from '../../home';

export function readReleaseInfo(layout: Layout, key: DeploymentKey, release: string): ReleaseInfo | undefined {
  try {
    return releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(layout.releases(key.project, key.environment), release), 'utf8')));
  } catch {
    return undefined;
  }
}
