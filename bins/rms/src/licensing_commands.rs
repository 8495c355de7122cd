//! The administration commands only licensing servers have: rights policy templates.

use clap::Subcommand;
use rms_roles::cert::{ListedTemplate, TemplateGrant, UsageRights};
use rms_roles::policy::Lifetime;
use rms_roles::{Admin, TemplateSpec};

use crate::{CliResult, ClusterArgs, report};

/// Rights policy template commands.
#[derive(Debug, Clone, Subcommand)]
pub enum TemplateCommand {
    /// Add a rights policy template (or replace one, with --replace): named grants that
    /// clients publish with (`rms-client publish --template NAME`). Every grant must name a
    /// principal or group of this cluster.
    ///
    /// Example: rms-licensing template add confidential --grant employees:view --grant legal:view,print,export --use-license-lifetime 30d --description "Employees may view"
    Add {
        /// The template's name.
        name: String,
        /// A grant, PRINCIPAL:RIGHT[,RIGHT...] with rights view, edit, print, export, forward;
        /// PRINCIPAL is a principal or a group (repeatable).
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        /// What the template is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The grants of content published with it end this long after publishing, e.g. 90d.
        #[arg(long)]
        content_expiry: Option<Lifetime>,
        /// A use license lasts this long before the user must ask again, e.g. 30d (default:
        /// the license lifetime, seven years).
        #[arg(long)]
        use_license_lifetime: Option<Lifetime>,
        /// Replace the template of that name (keeping its id); content published before keeps
        /// its policy.
        #[arg(long)]
        replace: bool,
    },
    /// List the templates.
    ///
    /// Example: rms-licensing template list --data-dir ./lic
    List,
    /// Show a template.
    ///
    /// Example: rms-licensing template show confidential --data-dir ./lic
    Show {
        /// The template's name.
        name: String,
    },
    /// Remove a template; content published with it keeps its policy.
    ///
    /// Example: rms-licensing template remove confidential --data-dir ./lic
    Remove {
        /// The template's name.
        name: String,
    },
}

/// Runs a template command against the cluster in `args`.
pub async fn run_template(args: &ClusterArgs, command: TemplateCommand) -> CliResult {
    let admin = open_admin(args).await?;
    match command {
        TemplateCommand::Add {
            name,
            grants,
            description,
            content_expiry,
            use_license_lifetime,
            replace,
        } => {
            let spec = TemplateSpec {
                name,
                description,
                grants: grants
                    .iter()
                    .map(|g| parse_grant(g))
                    .collect::<CliResult<_>>()?,
                content_validity: content_expiry,
                use_license_lifetime,
            };
            let template = if replace {
                admin.replace_template(&spec).await
            } else {
                admin.add_template(&spec).await
            }
            .map_err(report)?;
            println!(
                "template {} ({}) {}",
                template.name,
                template.id,
                if replace { "replaced" } else { "added" }
            );
        }
        TemplateCommand::List => {
            for template in admin.templates().await.map_err(report)? {
                println!(
                    "{:<24} {} {}",
                    template.name,
                    template.id,
                    grants_text(&template)
                );
            }
        }
        TemplateCommand::Show { name } => {
            let template = admin.template(&name).await.map_err(report)?;
            println!("name:                 {}", template.name);
            println!("id:                   {}", template.id);
            println!("description:          {}", template.description);
            println!("grants:               {}", grants_text(&template));
            println!(
                "content expiry:       {}",
                template
                    .content_validity
                    .map_or("none".to_owned(), |d| format!(
                        "{} after publishing",
                        Lifetime::Exact(d)
                    ))
            );
            println!(
                "use-license lifetime: {}",
                template
                    .use_license_lifetime
                    .map_or("the license lifetime".to_owned(), |d| Lifetime::Exact(d)
                        .to_string())
            );
        }
        TemplateCommand::Remove { name } => {
            admin.remove_template(&name).await.map_err(report)?;
            println!("template {name} removed");
        }
    }
    Ok(())
}

/// The administration of the cluster in `args`, acting as `$USER`.
pub(crate) async fn open_admin(args: &ClusterArgs) -> CliResult<Admin> {
    let store = args.open_store().await?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Admin::open(store, &actor).await.map_err(report)
}

/// `PRINCIPAL:RIGHT[,RIGHT...]`.
fn parse_grant(text: &str) -> CliResult<TemplateGrant> {
    let (principal, rights) = text
        .split_once(':')
        .ok_or_else(|| format!("grant {text:?} is not PRINCIPAL:RIGHT[,RIGHT...]"))?;
    let rights: UsageRights = rights.parse().map_err(report)?;
    TemplateGrant::new(principal, rights).map_err(report)
}

fn grants_text(template: &ListedTemplate) -> String {
    template
        .grants
        .iter()
        .map(|g| {
            let rights: Vec<&str> = g.rights().iter().map(|r| r.name()).collect();
            format!("{}:{}", g.principal(), rights.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
