//! ESPI scope strings.
