/** RecordBatch v2: layout constants, the builder, header reads and patches, the batch scanner, the lazy record reader and whole-batch (de)compression. */
export * from './layout.js';
export * from './compression.js';
export * from './record.js';
export * from './header.js';
export * from './builder.js';
export * from './reader.js';
export * from './scanner.js';
export * from './batch-compression.js';
