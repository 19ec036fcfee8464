// Placeholder: replaced by the Temporal dev server shutdown.
export default async function globalTeardown(): Promise<void> {}
