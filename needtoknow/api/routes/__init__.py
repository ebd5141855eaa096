"""One router per area, each a thin layer: parse, call one library function, render."""
