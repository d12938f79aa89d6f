//! The Green Button Connect My Data consent widget.
