//! The ownership ledger: the ids tagsync created (or adopted), per corp.
