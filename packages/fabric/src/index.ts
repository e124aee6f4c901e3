export const PACKAGE = '@tsmpi/fabric';
