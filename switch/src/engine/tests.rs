//! Unit tests of the engine: see the files under tests/.
