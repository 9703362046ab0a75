use serde::Serialize;

/// Where a command's result goes: human-readable text, or one JSON document on stdout.
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Prints `value` as JSON when asked for, otherwise the text `render` makes of it.
    pub fn emit<T: Serialize>(&self, value: &T, render: impl FnOnce(&T) -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).expect("command results serialize"));
        } else {
            let text = render(value);
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
        }
    }
}
