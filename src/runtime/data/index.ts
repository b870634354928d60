/**
 * An environment's data (databases and mounts): copies between environments ("data follows
 * the hierarchy") and snapshots. See docs/architecture.md, "Data: copies and snapshots".
 */
export { copyEnvironmentData, type DataCopyResult, type DataPartResult, type DataSelection } from './copy';
export { createSnapshot, deleteSnapshot, listSnapshots, pruneSnapshots, restoreSnapshot, type Snapshot, type SnapshotRequest } from './snapshots';
export { MARIADB_BACKUP } from './database';
