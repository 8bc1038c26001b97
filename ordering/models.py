# Orders, payments and their history arrive with the ordering issue (see docs/architecture.md).
