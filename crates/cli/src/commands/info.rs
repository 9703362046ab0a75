use loft_core::Loft;

use super::CliError;
use crate::output::Output;

pub fn run(loft: &Loft, out: &Output) -> Result<(), CliError> {
    out.emit(&loft.info(), |info| {
        format!(
            "Loft {}\ndata dir: {}\ndatabase: {}\nlogs:     {}",
            info.version,
            info.data_dir.display(),
            info.database.display(),
            info.logs_dir.display()
        )
    });
    Ok(())
}
