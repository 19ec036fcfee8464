// Placeholder: replaced by the Temporal dev server start-up.
export default async function globalSetup(): Promise<void> {}
