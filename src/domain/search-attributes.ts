/**
 * Slipway's custom search attributes: what an SRE filters on in the Temporal UI.
 * The dev server is started with all of them registered (see src/temporal/dev-server.ts).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SlipwayProject = defineSearchAttributeKey('SlipwayProject', SearchAttributeType.KEYWORD);
export const SlipwayEnvironment = defineSearchAttributeKey('SlipwayEnvironment', SearchAttributeType.KEYWORD);
export const SlipwayCommit = defineSearchAttributeKey('SlipwayCommit', SearchAttributeType.KEYWORD);
export const SlipwayPhase = defineSearchAttributeKey('SlipwayPhase', SearchAttributeType.KEYWORD);
export const SlipwayTicketStatus = defineSearchAttributeKey('SlipwayTicketStatus', SearchAttributeType.KEYWORD);
export const SlipwayKind = defineSearchAttributeKey('SlipwayKind', SearchAttributeType.KEYWORD);

/** Name → Temporal type name, as `temporal server start-dev --search-attribute` wants it. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Text' | 'Int'> = {
  SlipwayProject: 'Keyword',
  SlipwayEnvironment: 'Keyword',
  SlipwayCommit: 'Keyword',
  SlipwayPhase: 'Keyword',
  SlipwayTicketStatus: 'Keyword',
  SlipwayKind: 'Keyword',
};
