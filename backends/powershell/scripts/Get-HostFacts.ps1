# Preflight facts from the host itself, over WinRM (Kerberos; no TrustedHosts needed in a domain).
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    Invoke-Command -ComputerName ([string]$p.host) -ScriptBlock {
        $cs = Get-CimInstance -ClassName Win32_ComputerSystem
        $site = 'unknown'
        try { $site = [System.DirectoryServices.ActiveDirectory.ActiveDirectorySite]::GetComputerSite().Name } catch { }
        $policy = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service' -Name DisableRunAs -ErrorAction SilentlyContinue
        [ordered]@{
            hostName     = ([string]$cs.DNSHostName + '.' + [string]$cs.Domain).ToLowerInvariant()
            domainJoined = [bool]$cs.PartOfDomain
            domain       = if ($cs.PartOfDomain) { ([string]$cs.Domain).ToLowerInvariant() } else { $null }
            site         = $site
            winrmRunning = $true
            disableRunAs = ($null -ne $policy) -and ($policy.DisableRunAs -eq 1)
            psVersion    = $PSVersionTable.PSVersion.ToString()
        }
    }
}
