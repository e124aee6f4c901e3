export const PACKAGE = '@tsmpi/rcache';
