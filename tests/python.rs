//! Placeholder: the Python strategy test is being written.
