//! The plugins page.

use super::*;

pub async fn plugins(data: &Data) -> PluginsView {
    let mut plugins: Vec<PluginRow> = data.plugins().await;
    plugins.sort_by(|a, b| {
        a.name
            .as_deref()
            .unwrap_or(&a.file)
            .cmp(b.name.as_deref().unwrap_or(&b.file))
    });
    PluginsView {
        plugins,
        plugins_dir: data.plugins_dir(),
    }
}
