export const PACKAGE = '@tsmpi/cli';
