/**
 * The adapter kinds and the pinning adapter's pin modes: one home for their names, which the
 * runtime's options and the command line import rather than spell out.
 */
/** Dumb pinning (translations frozen at registration), or on-demand paging (invalidated by the kernel). */
export const ADAPTER_KINDS = Object.freeze(['pinning', 'odp'] as const);
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** How the pinning adapter holds pages: pinned (get_user_pages, blocks migration) or only mlocked (migration still moves them). */
export const PIN_MODES = Object.freeze(['pin', 'mlock'] as const);
export type PinMode = (typeof PIN_MODES)[number];
