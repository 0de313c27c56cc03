//! Renderers of a plan and of an apply report: text, markdown, json.
