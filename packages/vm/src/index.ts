export const PACKAGE = '@tsmpi/vm';
