//! Aligned columns for the commands that print to a person (`berth audit`, `berth status`):
//! a header row, then each cell padded to its column's widest.

/// Rows of cells under a header.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    /// Adds a row: as many cells as the header has.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The lines, each starting with `indent`, columns two spaces apart; the last column is not
    /// padded, so no line ends in spaces.
    pub fn lines(&self, indent: &str) -> Vec<String> {
        let columns = self.rows[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                let width = |row: &Vec<String>| row.get(c).map_or(0, |s| s.chars().count());
                self.rows.iter().map(width).max().unwrap_or(0)
            })
            .collect();
        self.rows
            .iter()
            .map(|row| {
                let mut line = indent.to_string();
                for (c, cell) in row.iter().enumerate() {
                    if c + 1 == row.len() {
                        line.push_str(cell);
                    } else {
                        line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
                    }
                }
                line
            })
            .collect()
    }

    /// Prints [`Table::lines`].
    pub fn print(&self, indent: &str) {
        for line in self.lines(indent) {
            say!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn columns_line_up_under_the_header() {
        let mut table = Table::new(&["NAME", "STATUS"]);
        table.row(vec!["a-long-name".into(), "ACTIVE".into()]);
        table.row(vec!["b".into(), "DRAINING".into()]);
        assert_eq!(
            table.lines("  "),
            [
                "  NAME         STATUS",
                "  a-long-name  ACTIVE",
                "  b            DRAINING"
            ]
        );
    }
}
