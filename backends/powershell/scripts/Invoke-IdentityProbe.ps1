# Connect THROUGH the endpoint and ask who the session runs as. The endpoint is NoLanguage, so the probe is a
# visible function of the endpoint's own; its name is fixed here, never taken from the payload as code.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    if ([string]$p.probeFunction -ne 'Get-GmsaRunbookIdentity') {
        throw [System.ArgumentException]::new('invalid probe function: only Get-GmsaRunbookIdentity is supported')
    }
    [string](Invoke-Command -ComputerName ([string]$p.host) -ConfigurationName ([string]$p.endpoint) -ScriptBlock { Get-GmsaRunbookIdentity })
}
